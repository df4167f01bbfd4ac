/**
 * limits.maxBufferedBytes against clients that stop taking what they are sent: a WebSocket whose
 * TCP socket stops reading, and a long-polling client that never polls again. Each sits on a
 * channel with a healthy Echo client while Laravel publishes tens of thousands of 1 KB broadcasts
 * to it. The relay is a child process (`node dist/echo-relay.mjs`), so its resident memory, read from its
 * own `/metrics`, is the relay's alone.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect, connected } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { waitUntil } from '../support/ports.js';
import { waitReady, type RelayProcess } from '../support/relay-process.js';

const require = createRequire(import.meta.url);
/** `ws`, as engine.io loads it. */
const { WebSocket } = createRequire(require.resolve('engine.io'))('ws') as {
  WebSocket: new (url: string) => RawWebSocket;
};

interface RawWebSocket {
  _socket: { pause(): void; destroyed: boolean };
  on(event: string, listener: (...args: unknown[]) => void): void;
  send(data: string): void;
  terminate(): void;
}

const MESSAGES = 40_000;
const SMALL_LIMIT = 256 * 1024;
/** Unbounded, the slow client's share alone would be about MESSAGES × 1 KB (40 MB) on top. */
const RSS_GROWTH_BOUND = 32 * 1024 * 1024;
const pad = 'p'.repeat(1000);
/** Broadcasts in flight at once (EVALs pipelined), and how far the healthy client may fall behind. */
const BATCH = 100;
const WINDOW = 100;

const fx = useFixture({ redis: 'single', nodes: 0 });
let dir: string;
let small: RelayProcess;
let standard: RelayProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'echo-relay-slow-'));
  const config = join(dir, 'laravel-echo-server.json');
  // No pings: a client that does not read cannot answer them, and only the buffer limit may cut it.
  writeFileSync(config, JSON.stringify({ socketio: { pingInterval: 600_000, pingTimeout: 600_000 } }));
  // Recovery off: its ordering hop makes each of the 40,000 broadcasts leave a few KB of short-lived
  // garbage, and under a loaded machine V8 lets that grow the heap by tens of MB before collecting
  // it, which RSS cannot tell from a slow client's queue. The per-client limit is the same code
  // either way; what recovery costs is in BENCHMARKS.md.
  const env = { ECHO_RELAY_RECOVERY: 'false' };
  small = fx.spawnNode({
    args: ['--config', config],
    env: { ...env, ECHO_RELAY_MAX_BUFFERED_BYTES: String(SMALL_LIMIT) },
  });
  standard = fx.spawnNode({ args: ['--config', config], env });
  await Promise.all([waitReady(small), waitReady(standard)]);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The sum of a metric's samples at `/metrics` whose labels include `labels`. */
async function metric(relay: RelayProcess, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${relay.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (match?.[1] === name && (match[2] ?? '').includes(labels)) sum += Number(match[3]);
  }
  return sum;
}

const rss = (relay: RelayProcess): Promise<number> => metric(relay, 'echo_relay_process_resident_memory_bytes');

/** A raw Engine.IO 4 WebSocket client subscribed to `channel`, its TCP socket then paused (it never reads again). */
async function stalledWebSocket(relay: RelayProcess, channel: string): Promise<RawWebSocket> {
  const subscribed = (await metric(relay, 'echo_relay_subscriptions')) + 1;
  const client = new WebSocket(`${relay.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  fx.defer(() => client.terminate());
  client.on('message', (data) => {
    const text = String(data);
    if (text.startsWith('0')) client.send('40');
    if (text.startsWith('40')) client.send(`42${JSON.stringify(['subscribe', { channel, auth: { headers: {} } }])}`);
  });
  await waitUntil(async () => (await metric(relay, 'echo_relay_subscriptions')) === subscribed, 20_000, 'subscribe');
  client._socket.pause();
  return client;
}

/** A long-polling client subscribed to `channel` over raw HTTP requests, that then never polls again. */
async function silentPoller(relay: RelayProcess, channel: string): Promise<void> {
  const subscribed = (await metric(relay, 'echo_relay_subscriptions')) + 1;
  const open = await (await fetch(`${relay.url}/socket.io/?EIO=4&transport=polling`)).text();
  const { sid } = JSON.parse(open.slice(1)) as { sid: string };
  const endpoint = `${relay.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
  expect(await (await fetch(endpoint, { method: 'POST', body: '40' })).text()).toBe('ok');
  expect(await (await fetch(endpoint)).text()).toMatch(/^40/);
  const subscribe = `42${JSON.stringify(['subscribe', { channel, auth: { headers: {} } }])}`;
  expect(await (await fetch(endpoint, { method: 'POST', body: subscribe })).text()).toBe('ok');
  await waitUntil(async () => (await metric(relay, 'echo_relay_subscriptions')) === subscribed, 20_000, 'subscribe');
}

/**
 * Publishes MESSAGES 1 KB broadcasts to `channel` as Laravel does, BATCH EVALs in flight at a time,
 * and waits until the healthy client has them all; returns the relay's RSS growth and what the
 * healthy client received.
 */
async function flood(relay: RelayProcess, channel: string, transport: string): Promise<number> {
  // WebSocket from the start: on long-polling until its upgrade, it would queue a burst in engine.io.
  const healthy = fx.client({ on: relay.url, client: { transports: ['websocket'] } });
  const received = collect(healthy, channel, '.tick') as { n: number }[];
  await connected(healthy);
  const before = { rss: await rss(relay), cut: await metric(relay, 'echo_relay_slow_consumer_disconnects_total') };
  await waitUntil(async () => (await metric(relay, 'echo_relay_subscriptions')) >= 2, 20_000, 'the healthy client');
  let peak = before.rss;
  for (let n = 0; n < MESSAGES;) {
    // The healthy client is kept within WINDOW messages of the publisher, so what waits for it stays
    // under the limit however busy the machine: only the slow client can reach it.
    await waitUntil(() => received.length >= n - WINDOW, 180_000, `the healthy client at ${n - WINDOW}`);
    const batch: Promise<void>[] = [];
    for (let i = 0; i < BATCH && n < MESSAGES; i++, n++)
      batch.push(fx.laravel.broadcast([channel], 'tick', { n, pad }));
    await Promise.all(batch);
    if (n % 5000 === 0) peak = Math.max(peak, await rss(relay));
  }
  await waitUntil(() => received.length >= MESSAGES, 180_000, `all ${MESSAGES} broadcasts at the healthy client`);
  peak = Math.max(peak, await rss(relay));
  expect(received.length).toBe(MESSAGES);
  expect(received.every((data, i) => data.n === i)).toBe(true);
  // The slow client was cut off, counted once under its transport, and its socket is gone.
  await waitUntil(
    async () => (await metric(relay, 'echo_relay_slow_consumer_disconnects_total')) === before.cut + 1,
    20_000,
    'the slow consumer cut off',
  );
  expect(
    await metric(relay, 'echo_relay_slow_consumer_disconnects_total', `transport="${transport}"`),
  ).toBeGreaterThanOrEqual(1);
  expect(await metric(relay, 'echo_relay_connections')).toBe(1);
  const growth = peak - before.rss;
  // The figure for the record (BENCHMARKS.md / the report).
  process.stdout.write(
    `slow-consumers e2e: ${transport}, ${MESSAGES} × 1 KB, RSS ${(before.rss / 2 ** 20).toFixed(1)} MB → peak ` +
      `${(peak / 2 ** 20).toFixed(1)} MB (+${(growth / 2 ** 20).toFixed(1)} MB)\n`,
  );
  healthy.disconnect();
  await waitUntil(async () => (await metric(relay, 'echo_relay_connections')) === 0, 20_000, 'the healthy client gone');
  return growth;
}

describe(`a client that stops taking what it is sent (limits.maxBufferedBytes = ${SMALL_LIMIT})`, () => {
  it('a WebSocket that stops reading is cut off; memory stays bounded; a healthy client gets every message in order', async () => {
    const slow = await stalledWebSocket(small, 'feed-ws');
    const growth = await flood(small, 'feed-ws', 'websocket');
    expect(growth).toBeLessThan(RSS_GROWTH_BOUND);
    expect(slow._socket.destroyed).toBe(false); // the client did not leave: the server cut it
  }, 300_000);

  it('a long-polling client that never polls again is cut off; memory stays bounded; a healthy client gets every message in order', async () => {
    await silentPoller(small, 'feed-polling');
    const growth = await flood(small, 'feed-polling', 'polling');
    expect(growth).toBeLessThan(RSS_GROWTH_BOUND);
  }, 300_000);
});

describe('the default limit (4 MiB)', () => {
  it('a WebSocket that stops reading is cut off once 4 MiB wait for it, and a healthy client gets every message in order', async () => {
    await stalledWebSocket(standard, 'feed-default');
    const growth = await flood(standard, 'feed-default', 'websocket');
    expect(growth).toBeLessThan(RSS_GROWTH_BOUND);
  }, 300_000);
});
