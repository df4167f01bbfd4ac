import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { rawSocket } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { httpStatus } from '../support/http.js';
import { waitUntil } from '../support/ports.js';
import { killRelay, spawnRelay, waitReady, type RelayProcess } from '../support/relay-process.js';

/**
 * The signals an operator, a supervisor or a terminal sends, to the process as they run it: each
 * one that stops the server stops it gracefully, however often it comes.
 */
describe('echo-relay and signals', () => {
  const fx = useFixture({ nodes: 0 });

  function spawn(options: Parameters<typeof spawnRelay>[0]): RelayProcess {
    const relay = spawnRelay(options);
    fx.defer(() => killRelay(relay));
    return relay;
  }

  it('keeps stopping gracefully when SIGTERM and SIGINT come again while it drains, and removes its pid file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-signals-'));
    const file = join(dir, 'laravel-echo-server.json');
    writeFileSync(file, JSON.stringify({ databaseConfig: { redis: { port: fx.server.port, host: '127.0.0.1' } } }));
    // A grace period keeps the stop under way while the further signals arrive (`echo-relay stop`
    // run twice, a supervisor repeating its signal, Ctrl-C pressed twice).
    const relay = spawn({
      bin: true,
      args: ['start', '--config', file],
      env: { ECHO_RELAY_SHUTDOWN_GRACE_MS: '1500', ECHO_RELAY_SHUTDOWN_TIMEOUT_MS: '30000' },
    });
    await waitReady(relay);
    expect(existsSync(join(dir, 'laravel-echo-server.lock'))).toBe(true);
    const echo = await fx.echoOn('orders', { on: relay.url });
    const reasons: string[] = [];
    rawSocket(echo).on('disconnect', (reason) => reasons.push(String(reason)));

    relay.child.kill('SIGTERM');
    await waitUntil(async () => (await httpStatus(`${relay.url}/ready`)) === 503, 5000, 'readiness to fail');
    relay.child.kill('SIGTERM');
    relay.child.kill('SIGINT');

    expect(await relay.exited).toEqual({ code: 0, signal: null });
    // both arrived while it was stopping, and were taken for what they are
    expect(relay.stdout()).toMatch(/SIGTERM received: already stopping/);
    expect(relay.stdout()).toMatch(/SIGINT received: already stopping/);
    expect(relay.stdout()).toMatch(/Stopped/);
    // its clients were told to reconnect, not cut off by the process dying
    await waitUntil(() => reasons.length === 1, 5000, 'the client disconnected');
    expect(reasons).toEqual(['transport close']);
    expect(existsSync(join(dir, 'laravel-echo-server.lock'))).toBe(false);
  });

  it('stops gracefully on SIGHUP (its terminal went away), like on SIGTERM', async () => {
    const relay = spawn({ env: { REDIS_URL: fx.redis.url } });
    await waitReady(relay);
    const echo = await fx.echoOn('orders', { on: relay.url });
    const disconnected = new Promise((resolve) => rawSocket(echo).once('disconnect', resolve));
    relay.child.kill('SIGHUP');
    expect(await relay.exited).toEqual({ code: 0, signal: null });
    expect(relay.stdout()).toMatch(/SIGHUP received: stopping/);
    expect(relay.stdout()).toMatch(/Stopped/);
    expect(await disconnected).toBe('transport close');
  });

  it('warns at startup when the grace period and the spread leave the stop no time within shutdownTimeoutMs', async () => {
    // A grace period above a 10 s health-check period, as the README advises, with the default
    // 10 s hard limit: every stop would be cut off before a client is closed, and exit 1.
    const relay = spawn({ env: { REDIS_URL: fx.redis.url, ECHO_RELAY_SHUTDOWN_GRACE_MS: '15000' } });
    await waitReady(relay);
    expect(relay.stdout()).toMatch(
      /shutdownGraceMs \(15000\) plus shutdownDisconnectSpreadMs \(1000\) leave no time within shutdownTimeoutMs \(10000\)/,
    );
    const fine = spawn({ env: { REDIS_URL: fx.redis.url, ECHO_RELAY_SHUTDOWN_GRACE_MS: '5000' } });
    await waitReady(fine);
    expect(fine.stdout()).not.toMatch(/leave no time within shutdownTimeoutMs/);
  });

  it('stops cleanly on a SIGTERM that comes while the server bundle is still loading', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-signals-'));
    const file = join(dir, 'laravel-echo-server.json');
    writeFileSync(file, JSON.stringify({ databaseConfig: { redis: { port: fx.server.port, host: '127.0.0.1' } } }));
    const probe = fileURLToPath(new URL('../../../test/fixtures/process/signal-while-loading.mjs', import.meta.url));
    // Loading takes well under a second here and seconds on a loaded machine: the pid file is
    // written by then, and nothing else is open.
    const relay = spawn({
      bin: true,
      args: ['start', '--config', file],
      env: { NODE_OPTIONS: `--import=${probe}`, SIGNAL_WHILE_LOADING: 'SIGTERM' },
    });
    expect(await relay.exited).toEqual({ code: 0, signal: null });
    expect(relay.stdout()).toMatch(/SIGTERM received: stopping/);
    expect(relay.stdout()).toMatch(/Stopped/);
    expect(existsSync(join(dir, 'laravel-echo-server.lock'))).toBe(false);
  });

  it('stops gracefully, exit 0, while its Redis is frozen: what it owes Redis is left to the leases', async () => {
    // A prefix of its own: the relays of the other tests here do not compete for its lease.
    const relay = spawn({ env: { REDIS_URL: fx.redis.url, REDIS_PREFIX: 'frozen_' } });
    await waitReady(relay);
    // The sequencer, with a lease to hand over, and a client whose presence and session it keeps.
    await waitUntil(() => /This node orders Laravel's broadcasts now/.test(relay.stdout()), 10_000, 'the lease');
    const echo = await fx.echoOn('orders', { on: relay.url });
    const disconnected = new Promise((resolve) => rawSocket(echo).once('disconnect', resolve));
    // Connections stay open and nothing answers: a partition, a stalled host.
    fx.server.pause();
    try {
      relay.child.kill('SIGTERM');
      expect(await relay.exited).toEqual({ code: 0, signal: null });
    } finally {
      fx.server.resume();
    }
    expect(relay.stdout()).toMatch(/Stopped/);
    expect(relay.stderr()).not.toMatch(/Graceful stop took longer/);
    expect(await disconnected).toBe('transport close');
  });
});
