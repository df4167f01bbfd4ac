import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../support/ports.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { killRelay, spawnRelay, waitReady, type RelayProcess } from '../support/relay-process.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

/** The `ENV` of the Dockerfile's last stage (the runtime image), as `KEY=value` pairs. */
function runtimeEnv(): Record<string, string> {
  const stages = readFileSync(ROOT + 'Dockerfile', 'utf8')
    .replace(/\\\n/g, ' ')
    .split(/^FROM /m);
  const env: Record<string, string> = {};
  for (const [, line] of stages[stages.length - 1].matchAll(/^ENV (.+)$/gm)) {
    for (const [, key, value] of line.matchAll(/(\w+)=(\S+)/g)) env[key] = value;
  }
  return env;
}

/** Runs the image's health check script in `cwd` (the container's /app), resolving to its exit code. */
async function healthcheck(cwd: string, path: string): Promise<number> {
  try {
    await run(process.execPath, [ROOT + 'deploy/healthcheck.cjs', path], { cwd, env: { PATH: process.env.PATH } });
    return 0;
  } catch (err) {
    return (err as { code: number }).code;
  }
}

describe('the Docker image as the Dockerfile builds it, run outside Docker', () => {
  let redis: TestRedis;
  let relay: RelayProcess;
  let port: number;
  let app: string;

  beforeAll(async () => {
    redis = await startRedis();
    port = await freePort();
    // A mounted laravel-echo-server.json in the working directory, as the compose file documents.
    app = mkdtempSync(join(tmpdir(), 'echo-relay-image-'));
    writeFileSync(join(app, 'laravel-echo-server.json'), JSON.stringify({ host: '127.0.0.1', port }));
    // The image's env and nothing else: spawnRelay's PORT=0 is replaced by what the image sets.
    const env = { PORT: '', REDIS_URL: redis.url, ...runtimeEnv() };
    relay = spawnRelay({ cwd: app, env });
    await waitReady(relay);
  });

  afterAll(async () => {
    if (relay) await killRelay(relay);
    await redis?.close();
  });

  it('runs the bundle the build produces, with its health check and no PORT that would override the file', () => {
    const dockerfile = readFileSync(ROOT + 'Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "dist\/echo-relay\.mjs"\]$/m);
    expect(readFileSync(ROOT + 'scripts/bundle.mjs', 'utf8')).toContain("outfile: 'dist/echo-relay.mjs'");
    expect(runtimeEnv()).not.toHaveProperty('PORT');
    // The health checks of the image and of docker-compose.yml run this file from /app.
    expect(dockerfile).toMatch(/^COPY .*deploy\/healthcheck\.cjs \.\/deploy\/$/m);
    expect(readFileSync(ROOT + '.dockerignore', 'utf8')).not.toMatch(/^deploy/m);
    expect(readFileSync(ROOT + 'docker-compose.yml', 'utf8')).toContain("'node', 'deploy/healthcheck.cjs', '/ready'");
  });

  it("listens on the mounted file's port, and the health checks find it there", async () => {
    expect(relay.url).toBe(`http://127.0.0.1:${port}`);
    expect(await healthcheck(app, '/health')).toBe(0);
    expect(await healthcheck(app, '/ready')).toBe(0);
  });

  it('fails the health check when nothing answers on that port', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'echo-relay-image-'));
    writeFileSync(join(empty, 'laravel-echo-server.json'), JSON.stringify({ port: await freePort() }));
    expect(await healthcheck(empty, '/health')).toBe(1);
  });
});

describe("the image's health check with a separate API listener (apiPort)", () => {
  let redis: TestRedis;
  let relay: RelayProcess;
  let port: number;
  let apiPort: number;
  let app: string;

  beforeAll(async () => {
    redis = await startRedis();
    port = await freePort();
    apiPort = await freePort();
    app = mkdtempSync(join(tmpdir(), 'echo-relay-image-'));
    writeFileSync(join(app, 'laravel-echo-server.json'), JSON.stringify({ host: '127.0.0.1', port, apiPort }));
    relay = spawnRelay({ cwd: app, env: { PORT: '', REDIS_URL: redis.url, ...runtimeEnv() } });
    await waitReady(relay);
  });

  afterAll(async () => {
    if (relay) await killRelay(relay);
    await redis?.close();
  });

  it('probes the API port, where a probe does not queue behind reconnecting clients', async () => {
    expect((await fetch(`http://127.0.0.1:${apiPort}/ready`)).status).toBe(200);
    expect(await healthcheck(app, '/ready')).toBe(0);
    expect(await healthcheck(app, '/health')).toBe(0);
    // The main port answers too; a file naming an API port where nothing listens fails the check.
    const elsewhere = mkdtempSync(join(tmpdir(), 'echo-relay-image-'));
    writeFileSync(join(elsewhere, 'laravel-echo-server.json'), JSON.stringify({ port, apiPort: await freePort() }));
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    expect(await healthcheck(elsewhere, '/ready')).toBe(1);
  });

  it('falls back to the main port when apiPort is 0 (a free port picked at start)', async () => {
    const random = mkdtempSync(join(tmpdir(), 'echo-relay-image-'));
    writeFileSync(join(random, 'laravel-echo-server.json'), JSON.stringify({ port, apiPort: 0 }));
    expect(await healthcheck(random, '/ready')).toBe(0);
  });
});
