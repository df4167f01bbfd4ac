/**
 * limits.maxMessagesPerSecond / maxMessageBurst with their defaults: one client sending
 * subscribe/unsubscribe in a loop (paced only by its own socket's buffer) is closed and counted,
 * on every protocol, while a well-behaved client of the same node keeps receiving Laravel's
 * broadcasts; and Echo subscribing 1000 channels at once (what it does after each reconnect) is not.
 */
import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { CLIENT_VERSIONS, collect, connected, rawSocket, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { sleep, waitUntil } from '../support/ports.js';
import {
  createPusherEcho,
  PUSHER_CLIENTS_ENV,
  pusherConnected,
  pusherOf,
  RawPusher,
} from '../support/pusher-client.js';
import type { TestRelay } from '../support/relay.js';

const require = createRequire(import.meta.url);
/** `ws`, as engine.io loads it (the one the relay's own WebSockets are). */
const EngineWebSocket = createRequire(require.resolve('engine.io'))('ws') as typeof WebSocket;

const fx = useFixture({ env: { ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV } });

async function floodDisconnects(relay: TestRelay, protocol: string): Promise<number> {
  return (await relay.metrics.floodDisconnects.get()).values.find((v) => v.labels.protocol === protocol)?.value ?? 0;
}

async function allFloodDisconnects(relay: TestRelay): Promise<number> {
  return (await relay.metrics.floodDisconnects.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/**
 * Sends `frames` in turn, as fast as the socket takes them (while less than 256 KB waits in its
 * buffer), until it closes, or gives up after 10 s (then the code is 1006); resolves with the close
 * code and how many were sent.
 */
function flood(ws: WebSocket, frames: string[]): Promise<{ code: number; sent: number }> {
  return new Promise((resolve) => {
    let sent = 0;
    let closed = false;
    const giveUp = setTimeout(() => ws.terminate(), 10_000);
    ws.on('close', (code: number) => {
      closed = true;
      clearTimeout(giveUp);
      resolve({ code, sent });
    });
    ws.on('error', () => undefined);
    const pump = (): void => {
      if (closed || ws.readyState !== WebSocket.OPEN) return;
      while (ws.bufferedAmount < 256 * 1024 && sent < 10_000_000) ws.send(frames[sent++ % frames.length]);
      setImmediate(pump);
    };
    pump();
  });
}

/**
 * A healthy Echo client on `channel` receives every broadcast Laravel publishes every 50 ms while
 * `attack` runs, and one more after it; returns the attack's result.
 */
async function whileHealthyClientListens<T>(attack: () => Promise<T>): Promise<T> {
  const channel = `news-${Math.random().toString(36).slice(2)}`;
  const healthy = fx.client({ client: { transports: ['websocket'] } });
  const received = collect(healthy, channel, '.E');
  await connected(healthy);
  await fx.relay.waitForSubscribers(channel, 1);
  let published = 0;
  let publishing = true;
  const publisher = (async () => {
    while (publishing) {
      await fx.laravel.broadcast([channel], 'E', { n: published++ });
      await sleep(50);
    }
  })();
  const result = await attack();
  publishing = false;
  await publisher;
  await fx.laravel.broadcast([channel], 'E', { n: published++ });
  await waitUntil(() => received.length === published, 5000, `all ${published} broadcasts at the healthy client`);
  expect(rawSocket(healthy).connected).toBe(true);
  return result;
}

/**
 * Resolves once socket.io has connected the raw client to its default namespace (`40` from the
 * server; an event sent before that closes the connection): EIO4 asks with `connect`, EIO3 is
 * connected without asking.
 */
function opened(ws: WebSocket, connect?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('0') && connect) ws.send(connect);
      if (text.startsWith('40')) resolve();
    });
    ws.once('error', reject);
  });
}

const SUBSCRIBE_LOOP = [
  `42${JSON.stringify(['subscribe', { channel: 'spam' }])}`,
  `42${JSON.stringify(['unsubscribe', { channel: 'spam' }])}`,
];

describe('a client flooding the node with messages', () => {
  it('EIO4 WebSocket: closed, counted as eio4, logged; a healthy client keeps receiving broadcasts', async () => {
    const relay = fx.relay;
    const before = await floodDisconnects(relay, 'eio4');
    const result = await whileHealthyClientListens(async () => {
      const ws = new EngineWebSocket(`${relay.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
      fx.defer(() => ws.terminate());
      await opened(ws, '40');
      return flood(ws, SUBSCRIBE_LOOP);
    });
    expect(result.sent).toBeGreaterThan(5000);
    expect(await floodDisconnects(relay, 'eio4')).toBe(before + 1);
    expect(relay.logs.matching(/disconnected a flooding client \(eio4, websocket/).length).toBeGreaterThan(0);
  });

  it('EIO3 WebSocket (socket.io-client 2): closed and counted as eio3', async () => {
    const relay = fx.relay;
    const before = await floodDisconnects(relay, 'eio3');
    const result = await whileHealthyClientListens(async () => {
      const ws = new EngineWebSocket(`${relay.url.replace('http', 'ws')}/socket.io/?EIO=3&transport=websocket`);
      fx.defer(() => ws.terminate());
      await opened(ws);
      return flood(ws, SUBSCRIBE_LOOP);
    });
    expect(result.sent).toBeGreaterThan(5000);
    expect(await floodDisconnects(relay, 'eio3')).toBe(before + 1);
  });

  it('EIO4 long-polling: a POST of more packets than the burst closes the session', async () => {
    const relay = fx.relay;
    const before = await floodDisconnects(relay, 'eio4');
    const open = await (await fetch(`${relay.url}/socket.io/?EIO=4&transport=polling`)).text();
    const { sid } = JSON.parse(open.slice(1)) as { sid: string };
    const endpoint = `${relay.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    expect(await (await fetch(endpoint, { method: 'POST', body: '40' })).text()).toBe('ok');
    const packets = Array.from({ length: 6000 }, (_, i) => SUBSCRIBE_LOOP[i % 2]);
    await fetch(endpoint, { method: 'POST', body: packets.join('\x1e') }).catch(() => undefined);
    expect(await floodDisconnects(relay, 'eio4')).toBe(before + 1);
    // The session is gone: engine.io answers 400 to its id.
    expect((await fetch(endpoint)).status).toBe(400);
  });

  it('Pusher: closed with 4100 (pusher-js backs off) and counted as pusher', async () => {
    const relay = fx.relay;
    const before = await floodDisconnects(relay, 'pusher');
    const result = await whileHealthyClientListens(async () => {
      const client = await RawPusher.open(relay.port);
      fx.defer(() => client.ws.terminate());
      await client.socketId();
      return flood(client.ws, [
        JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'spam' } }),
        JSON.stringify({ event: 'pusher:unsubscribe', data: { channel: 'spam' } }),
      ]);
    });
    expect(result.code).toBe(4100);
    expect(await floodDisconnects(relay, 'pusher')).toBe(before + 1);
    expect(relay.logs.matching(/disconnected a flooding client \(pusher/).length).toBeGreaterThan(0);
  });
});

describe('clients that are not flooding', () => {
  const channels = Array.from({ length: 1000 }, (_, i) => `room-${i}`);

  for (const version of CLIENT_VERSIONS) {
    it(`Echo over socket.io-client ${version} subscribing 1000 channels at once, twice (a reconnect), stays connected`, async () => {
      const relay = fx.relay;
      const before = await allFloodDisconnects(relay);
      const echo: TestEcho = fx.client({ version, client: { reconnection: true, reconnectionDelay: 100 } });
      const received = collect(echo, channels[999], '.E');
      for (const channel of channels.slice(0, 999)) echo.channel(channel);
      await connected(echo);
      await relay.waitForSubscribers(channels[999], 1);
      await relay.waitForSubscribers(channels[0], 1);
      // The connection drops (as on a network change): Echo reconnects and sends all 1000 subscribes again.
      (rawSocket(echo) as unknown as { io: { engine: { close(): void } } }).io.engine.close();
      await waitUntil(() => !rawSocket(echo).connected, 5000, 'the disconnect');
      await waitUntil(() => rawSocket(echo).connected, 10_000, 'the reconnect');
      await relay.waitForSubscribers(channels[999], 1);
      await fx.laravel.broadcast([channels[999]], 'E', {});
      await waitUntil(() => received.length === 1, 5000, 'the broadcast on the last channel');
      expect(rawSocket(echo).connected).toBe(true);
      expect(await allFloodDisconnects(relay)).toBe(before);
    });
  }

  it('pusher-js subscribing 1000 channels at once stays connected', async () => {
    const relay = fx.relay;
    const before = await allFloodDisconnects(relay);
    const echo = createPusherEcho(relay.port);
    fx.defer(() => echo.disconnect());
    await pusherConnected(echo);
    let got = 0;
    for (const channel of channels) echo.channel(channel);
    echo.channel(channels[999]).listen('.E', () => got++);
    await relay.waitForSubscribers(channels[999], 1);
    await waitUntil(
      () => channels.every((c) => pusherOf(echo).channel(c)?.subscribed === true),
      10_000,
      'every subscription',
    );
    await fx.laravel.broadcast([channels[999]], 'E', {});
    await waitUntil(() => got === 1, 5000, 'the broadcast on the last channel');
    expect(pusherOf(echo).connection.state).toBe('connected');
    expect(await allFloodDisconnects(relay)).toBe(before);
  });
});
