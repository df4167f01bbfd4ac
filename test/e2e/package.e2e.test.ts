import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { REPO_ROOT, runCli } from '../support/cli-process.js';
import { useFixture } from '../support/fixture.js';
import { freePort, waitUntil } from '../support/ports.js';

const exec = promisify(execFile);

/** Installing the tarball's dependencies (no dev dependencies) took about 8 s here with a warm npm cache. */
const INSTALL_TIMEOUT_MS = 150_000;

interface PackResult {
  filename: string;
  files: { path: string }[];
}

describe('the npm package and its scripts', () => {
  const fx = useFixture({ nodes: 0 });

  it('packs the bundles and bin only, and installs globally into a working echo-relay command', async () => {
    const out = mkdtempSync(join(tmpdir(), 'echo-relay-pack-'));
    // --ignore-scripts: the e2e run has just built dist/; prepack would build it again.
    const { stdout } = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], {
      cwd: REPO_ROOT,
    });
    const [pack] = JSON.parse(stdout) as PackResult[];
    const files = pack.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'bin/echo-relay.js',
        'dist/echo-relay.mjs',
        'dist/echo-relay-server.mjs',
      ]),
    );
    expect(files.filter((f) => /^(src|test|bench|scripts|\.test-build)\//.test(f) || f.endsWith('.ts'))).toEqual([]);

    // Outside the clone: a prefix and a working directory of its own; npm fetches the dependencies.
    const prefix = join(out, 'prefix');
    await exec(
      'npm',
      ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', join(out, pack.filename)],
      {
        cwd: out,
        timeout: INSTALL_TIMEOUT_MS,
      },
    );
    const installed = join(prefix, 'lib/node_modules/echo-relay');
    // dependencies only
    expect(existsSync(join(installed, 'node_modules/@nestjs/core'))).toBe(true);
    for (const dev of ['jest', 'typescript', 'esbuild'])
      expect(existsSync(join(installed, 'node_modules', dev))).toBe(false);

    const bin = join(prefix, 'bin/echo-relay');
    const work = mkdtempSync(join(tmpdir(), 'echo-relay-installed-'));
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect((await runCli(['--version'], { cwd: work, bin })).stdout).toBe(`${pkg.version}\n`);
    const port = await freePort();
    const init = ['init', '--port', String(port), '--redis-port', String(fx.server.port), '--add-client'];
    expect((await runCli(init, { cwd: work, bin })).code).toBe(0);

    // `start` in the background, as a daemon; `status` waits for it and `stop` ends it.
    const server = spawn(bin, ['start'], { cwd: work, env: { PATH: process.env.PATH }, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    fx.defer(() => void server.kill('SIGKILL'));
    let status = await runCli(['status'], { cwd: work, bin });
    await waitUntil(async () => (status = await runCli(['status'], { cwd: work, bin })).code === 0, 60_000);
    expect(status.stdout).toMatch(/redis +subscribed/);
    expect((await runCli(['stop'], { cwd: work, bin })).code).toBe(0);
    expect(await exited).toBe(0);
  }, 240_000);

  it('`npm start` ends with its server: SIGTERM to npm stops the node process it started', async () => {
    // --ignore-scripts skips the prestart build (the e2e run has just built dist/).
    const npm = spawn('npm', ['start', '--ignore-scripts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, PORT: '0', ECHO_RELAY_HOST: '127.0.0.1', REDIS_URL: fx.redis.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npm.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    let serverPid = 0;
    fx.defer(() => {
      npm.kill('SIGKILL');
      if (serverPid && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
    });
    await waitUntil(() => /serving on/.test(out), 60_000, 'npm start to serve');
    serverPid = Number(/"pid":(\d+)/.exec(out)?.[1]);
    expect(serverPid).not.toBe(npm.pid);
    npm.kill('SIGTERM');
    await waitUntil(() => !alive(serverPid), 10_000, `the server (pid ${serverPid}) to exit`);
    // Its last lines may still be in the pipe when the process is gone: they are read in later turns.
    await waitUntil(() => /SIGTERM received/.test(out), 5000, 'the server to have logged SIGTERM').catch(
      () => undefined,
    );
    expect(out).toMatch(/SIGTERM received/);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
