import { beforeAll, describe, expect, it } from '@jest/globals';
import { collect, rawSocket, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import type { ApiClient } from '../support/http-api.js';
import { waitUntil } from '../support/ports.js';
import { answerOf, pusherSdk } from '../support/pusher-api.js';
import {
  createPusherEcho,
  PUSHER_APP,
  PUSHER_CLIENTS_ENV,
  pusherConnected,
  pusherOf,
  type PusherEcho,
} from '../support/pusher-client.js';
import { droppedCount, type TestRelay } from '../support/relay.js';

const PREFIX = 'laravel_database_';

/**
 * Event names a client library keeps for itself, and who: a broadcast with one of them cannot be
 * delivered as a channel event without firing that library's own handlers instead (socket.io-client
 * 2 hands a server's `error`, `reconnect` or `ping` to the socket's listeners for its connection
 * errors, reconnections and heartbeats; pusher-js treats `pusher:error` as a connection error and
 * `pusher_internal:member_added` as a presence member joining; Laravel Echo's socket.io connector
 * reads `presence:joining` as one).
 */
const RESERVED: [string, RegExp][] = [
  ['error', /reserved by socket\.io-client 2/],
  ['reconnect', /reserved by socket\.io-client 2/],
  ['ping', /reserved by socket\.io-client 2/],
  ['connect_timeout', /reserved by socket\.io-client 2/],
  ['disconnect', /reserved by socket\.io/],
  ['removeListener', /reserved by socket\.io/],
  ['pusher:error', /reserved by the Pusher protocol/],
  ['pusher_internal:member_added', /reserved by the Pusher protocol/],
  ['presence:joining', /reserved by Laravel Echo/],
  ['subscription_error', /reserved by Laravel Echo/],
];

describe('broadcasts named with an event name a client library reserves', () => {
  const fx = useFixture({ prefix: PREFIX, env: { ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV } });
  let relay: TestRelay;
  let api: ApiClient;

  beforeAll(() => {
    relay = fx.relay;
    api = fx.api(PUSHER_APP.appId, PUSHER_APP.key);
  });

  const dropped = (): Promise<number> => droppedCount(relay, 'invalid_event');

  /** Every emission of a reserved name on the raw socket that carries the channel, as Echo's events do. */
  function reservedOnSocket(echo: TestEcho, channel: string): unknown[][] {
    const seen: unknown[][] = [];
    for (const [name] of RESERVED)
      rawSocket(echo).on(name, (...args) => args[0] === channel && seen.push([name, ...args]));
    return seen;
  }

  /** Every frame of the channel pusher-js receives under a reserved name. */
  function reservedOnPusher(echo: PusherEcho, channel: string): unknown[] {
    const seen: unknown[] = [];
    const names = new Set(RESERVED.map(([name]) => name));
    pusherOf(echo).connection.bind('message', (frame: { event: string; channel?: string }) => {
      if (frame.channel === channel && names.has(frame.event)) seen.push(frame);
    });
    return seen;
  }

  it('drops them from Redis, counted and logged, and no socket.io 2 or 4 or pusher-js client sees them', async () => {
    const v2 = await fx.echoOn('orders', { version: 2 });
    const v4 = await fx.echoOn('orders', { version: 4 });
    const pusher = createPusherEcho(relay.port);
    try {
      await pusherConnected(pusher);
      const onSockets = [reservedOnSocket(v2, 'orders'), reservedOnSocket(v4, 'orders')];
      const onPusher = reservedOnPusher(pusher, 'orders');
      // pusher-js takes a `pusher:error` on any channel for an error of its connection.
      const pusherErrors: unknown[] = [];
      pusherOf(pusher).connection.bind('error', (err: unknown) => pusherErrors.push(err));
      const after = [collect(v2, 'orders', '.after'), collect(v4, 'orders', '.after')];
      pusher.channel('orders').listen('.after', (data: unknown) => after.push([data]));
      await relay.waitForSubscribers('orders', 3);
      const before = await dropped();

      for (const [name] of RESERVED) {
        await fx.laravel.publishRaw(`${PREFIX}orders`, JSON.stringify({ event: name, data: { x: 1 }, socket: null }));
      }
      // Published after them on the same connection: once it has arrived, they would have too.
      await fx.laravel.broadcast(['orders'], 'after', { ok: true });
      await waitUntil(() => after.length === 3 && after.every((got) => got.length === 1));

      expect({ v2: onSockets[0], v4: onSockets[1], pusher: onPusher, pusherErrors }).toEqual({
        v2: [],
        v4: [],
        pusher: [],
        pusherErrors: [],
      });
      expect((await dropped()) - before).toBe(RESERVED.length);
      // The first is logged (the rest of the reason is throttled), naming the library that reserves it.
      expect(
        relay.logs.matching(
          /Dropped message on Redis channel "laravel_database_orders": invalid_event \(event name "error" is reserved by socket\.io-client 2/,
        ),
      ).toHaveLength(1);
    } finally {
      pusher.disconnect();
    }
  });

  it('refuses them on the HTTP API with 400 naming the problem, counts them, and delivers nothing', async () => {
    const echo = await fx.echoOn('http-orders');
    const got = collect(echo, 'http-orders', '.after');
    const onSocket = reservedOnSocket(echo, 'http-orders');
    await relay.waitForSubscribers('http-orders', 1);
    const before = await dropped();
    for (const [name, by] of RESERVED) {
      const answer = await api.publish({ channel: 'http-orders', name, data: { x: 1 } });
      expect(answer.status).toBe(400);
      const { error } = answer.body as { error: string };
      expect(error).toMatch(/^invalid "name" \(channel "http-orders"\): event name ".+" is reserved by /);
      expect(error).toMatch(by);
    }
    expect((await dropped()) - before).toBe(RESERVED.length);
    await api.publish({ channel: 'http-orders', name: 'after', data: { ok: true } });
    await waitUntil(() => got.length === 1);
    expect(onSocket).toEqual([]);
  });

  it("refuses them on Pusher's HTTP API with 400 naming the problem", async () => {
    const sdk = pusherSdk(relay.apiUrl, PUSHER_APP);
    for (const [name, by] of RESERVED) {
      const answer = await answerOf(sdk.trigger('http-orders', name, { x: 1 }));
      expect(answer.status).toBe(400);
      expect((answer.body as { error: string }).error).toMatch(by);
    }
  });

  it('still delivers names that only look alike', async () => {
    const echo = await fx.echoOn('lookalikes');
    const names = ['errors', 'Error', 'App\\Events\\Error', 'pusher-error', 'presence:other', 'client-error'];
    const got = names.map((name) => collect(echo, 'lookalikes', `.${name}`));
    await relay.waitForSubscribers('lookalikes', 1);
    for (const name of names) await fx.laravel.broadcast(['lookalikes'], name, { name });
    await waitUntil(() => got.every((events) => events.length === 1));
    expect(got).toEqual(names.map((name) => [{ name }]));
  });
});
