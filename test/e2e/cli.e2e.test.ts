import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { REPO_ROOT, runCli } from '../support/cli-process.js';
import { useFixture } from '../support/fixture.js';
import { freePort, waitUntil } from '../support/ports.js';
import { killRelay, spawnRelay, waitReady, type RelayProcess } from '../support/relay-process.js';

interface LegacyFile {
  port: number;
  clients: { appId: string; key: string }[];
  databaseConfig: { redis: { port: number; keyPrefix: string } };
}

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'echo-relay-cli-'));
const readConfig = (dir: string): LegacyFile =>
  JSON.parse(readFileSync(join(dir, 'laravel-echo-server.json'), 'utf8')) as LegacyFile;
const printedKey = (stdout: string): { appId: string; key: string } => ({
  appId: /appId: (\S+)/.exec(stdout)?.[1] ?? '',
  key: /key: (\S+)/.exec(stdout)?.[1] ?? '',
});

describe('the echo-relay command line', () => {
  // Only Redis: every relay here is a child process, killed by the fixture even when a test fails.
  const fx = useFixture({ nodes: 0 });

  function spawn(options: Parameters<typeof spawnRelay>[0]): RelayProcess {
    const relay = spawnRelay(options);
    fx.defer(() => killRelay(relay));
    return relay;
  }

  /** `init` without a terminal: flags and defaults, on a port status can find, against the suite's Redis. */
  async function initIn(dir: string, port: number, extra: string[] = []): Promise<string> {
    const redisPort = String(fx.server.port);
    const run = await runCli(['init', '--port', String(port), '--redis-port', redisPort, ...extra], { cwd: dir });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    return run.stdout;
  }

  it('answers --help and --version at once, from the command-line bundle alone', async () => {
    // bin and the command-line bundle without the server bundle beside them or any node_modules:
    // a --help that loaded Nest (or the server) would fail here, not only be slow.
    const copy = tempDir();
    mkdirSync(join(copy, 'bin'));
    mkdirSync(join(copy, 'dist'));
    for (const file of ['bin/echo-relay.js', 'dist/echo-relay.mjs', 'package.json']) {
      copyFileSync(join(REPO_ROOT, file), join(copy, file));
    }
    const bin = join(copy, 'bin/echo-relay.js');
    const help = await runCli(['--help'], { cwd: copy, bin });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: echo-relay \[command\]/);
    expect(help.stdout).toMatch(/client:add \[appId\]/);
    expect(help.ms).toBeLessThan(1500);
    const version = await runCli(['--version'], { cwd: copy, bin });
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    // init and client:add need no server either
    expect((await runCli(['init', '--add-client'], { cwd: copy, bin })).code).toBe(0);
    expect((await runCli(['client:add', 'other'], { cwd: copy, bin })).code).toBe(0);
    // the copy really lacks the server: starting there fails on the missing bundle
    const start = await runCli(['--config', 'laravel-echo-server.json'], { cwd: copy, bin });
    expect(start.code).not.toBe(0);
    expect(start.stderr).toMatch(/echo-relay-server\.mjs/);
  });

  it('refuses an unknown command or option with the usage and exit 64', async () => {
    const dir = tempDir();
    for (const args of [['serve'], ['status', '--bogus'], ['start', 'extra']]) {
      const run = await runCli(args, { cwd: dir });
      expect(run.code).toBe(64);
      expect(run.stderr).toMatch(/Usage: echo-relay/);
    }
  });

  it('init writes a laravel-echo-server.json the server starts on without a warning, with a working API key', async () => {
    const dir = tempDir();
    const stdout = await initIn(dir, 0, ['--redis-prefix', 'laravel_database_', '--add-client']);
    const client = printedKey(stdout);
    expect(client.key).toMatch(/^[0-9a-f]{32}$/);
    expect(readConfig(dir)).toMatchObject({
      port: 0,
      clients: [client],
      databaseConfig: { redis: { port: fx.server.port, keyPrefix: 'laravel_database_' } },
    });
    // an existing file is kept
    const again = await runCli(['init'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists; use --force/);

    const relay = spawn({ bin: true, args: ['start'], cwd: dir, env: { PORT: '' } });
    await waitReady(relay);
    expect(relay.stdout()).not.toMatch(/not supported/);
    expect(relay.stdout()).toMatch(/laravel_database_\*/);
    const res = await fetch(`${relay.url}/apps/${client.appId}/status?auth_key=${client.key}`);
    expect(res.status).toBe(200);
  });

  it('client:add adds or renews a key and client:remove removes it, in the file', async () => {
    const dir = tempDir();
    await initIn(dir, 6001);
    const added = await runCli(['client:add', 'my-app'], { cwd: dir });
    expect(added.code).toBe(0);
    const first = printedKey(added.stdout);
    expect(first.appId).toBe('my-app');
    expect(readConfig(dir).clients).toEqual([first]);

    const renewed = printedKey((await runCli(['client:add', 'my-app'], { cwd: dir })).stdout);
    expect(renewed.key).not.toBe(first.key);
    const generated = printedKey((await runCli(['client:add'], { cwd: dir })).stdout);
    expect(generated.appId).toMatch(/^[0-9a-f]{16}$/);
    expect(readConfig(dir).clients).toEqual([renewed, generated]);

    const missing = await runCli(['client:remove', 'nobody'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No client with appId "nobody"/);
    expect(readConfig(dir).clients).toHaveLength(2);
    expect((await runCli(['client:remove', 'my-app'], { cwd: dir })).code).toBe(0);
    expect(readConfig(dir).clients).toEqual([generated]);

    // --config and --dir name another file, as with the old server
    const other = tempDir();
    await initIn(other, 6001, ['--config', 'echo.json']);
    expect((await runCli(['client:add', 'x', '--dir', other, '--config', 'echo.json'], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(other, 'echo.json'), 'utf8')).toMatch(/"appId": "x"/);
  });

  it('client:add refuses a file whose clients is not an array, naming the key', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'laravel-echo-server.json'), JSON.stringify({ clients: { appId: 'a', key: 'b' } }));
    const run = await runCli(['client:add'], { cwd: dir });
    expect(run.code).toBe(78);
    expect(run.stderr).toMatch(/"clients" .* must be an array/);
  });

  it('status prints the running server’s figures, start --force replaces it, stop ends the one recorded, then status fails', async () => {
    const dir = tempDir();
    const port = await freePort();
    await initIn(dir, port, ['--redis-prefix', '', '--add-client']);
    const relay = spawn({ bin: true, args: ['start'], cwd: dir, env: { PORT: '' } });
    await waitReady(relay);
    expect(JSON.parse(readFileSync(join(dir, 'laravel-echo-server.lock'), 'utf8'))).toEqual({
      process: relay.child.pid,
    });
    await fx.echoOn('orders', { on: relay.url });

    let status = await runCli(['status'], { cwd: dir });
    await waitUntil(async () => {
      status = await runCli(['status'], { cwd: dir });
      return /channels +1\n/.test(status.stdout);
    }, 10_000);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`echo-relay at http://127\\.0\\.0\\.1:${port}: ready`));
    expect(status.stdout).toMatch(/uptime +\d+ s/);
    expect(status.stdout).toMatch(/connections +1\n/);
    expect(status.stdout).toMatch(/redis +subscribed/);

    // a second `start` beside it is refused
    const second = await runCli(['start'], { cwd: dir });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`already running \\(pid ${relay.child.pid}`));

    // --force stops it gracefully and takes its place (and its port)
    const replacement = spawn({ bin: true, args: ['start', '--force'], cwd: dir, env: { PORT: '' } });
    expect(await relay.exited).toEqual({ code: 0, signal: null });
    await waitReady(replacement);
    expect(replacement.url).toBe(`http://127.0.0.1:${port}`);

    const stop = await runCli(['stop'], { cwd: dir });
    expect(stop).toMatchObject({ code: 0, stdout: `Stopped echo-relay (pid ${replacement.child.pid})\n` });
    expect(await replacement.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dir, 'laravel-echo-server.lock'))).toBe(false);

    const down = await runCli(['status'], { cwd: dir });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/not running at http:\/\/127\.0\.0\.1/);
    const stopAgain = await runCli(['stop'], { cwd: dir });
    expect(stopAgain.code).toBe(1);
    expect(stopAgain.stderr).toMatch(/No pid file/);
  });
});
