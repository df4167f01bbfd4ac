import { beforeAll, describe, expect, it } from '@jest/globals';
import { CLIENT_VERSIONS, collect, rawSocket } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import type { ApiClient } from '../support/http-api.js';
import { waitUntil } from '../support/ports.js';
import { signedRequest } from '../support/pusher-api.js';
import { PUSHER_APP, PUSHER_CLIENTS_ENV, RawPusher } from '../support/pusher-client.js';
import { droppedCount, type TestRelay } from '../support/relay.js';

const PREFIX = 'laravel_database_';
/** A channel name with a lone UTF-16 surrogate: JSON can carry it, UTF-8 (Redis, URLs, logs) cannot. */
const LONE = 'orders.\ud800';
/** The same name as JSON text, escaped: what a caller's JSON encoder sends. */
const LONE_JSON = JSON.stringify(LONE);
/** Bytes that are no UTF-8 (a surrogate encoded as if it were a character), after Laravel's prefix. */
const NOT_UTF8 = Buffer.concat([Buffer.from(`${PREFIX}orders.`), Buffer.from([0xed, 0xa0, 0x80])]);

/**
 * A channel name that is not well-formed Unicode cannot name the same room everywhere: the Redis
 * adapter carries it to the other nodes as UTF-8, which turns a lone surrogate into U+FFFD, and a
 * URL path cannot hold it at all. It is refused wherever a channel name comes in, as a URL path
 * already refused it.
 */
describe('channel names that are not well-formed Unicode', () => {
  const fx = useFixture({ prefix: PREFIX, env: { ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV } });
  let relay: TestRelay;
  let api: ApiClient;

  beforeAll(() => {
    relay = fx.relay;
    api = fx.api(PUSHER_APP.appId, PUSHER_APP.key);
  });

  const dropped = (reason: string): Promise<number> => droppedCount(relay, reason);

  it('are refused in a URL path, as before', async () => {
    const answer = await api.get('/channels/orders.%ED%A0%80');
    // Express cannot decode the path: the bytes are no UTF-8.
    expect([answer.status, answer.body]).toEqual([400, { error: "Failed to decode param 'orders.%ED%A0%80'" }]);
  });

  it('are refused in POST /events with 400 naming the channel problem, and nothing is delivered', async () => {
    const echo = await fx.echoOn('orders');
    const got = collect(echo, 'orders', '.e');
    await relay.waitForSubscribers('orders', 1);
    const before = await dropped('invalid_channel');
    const bodies = [
      `{"channel":${LONE_JSON},"name":"e","data":{"n":0}}`,
      `{"channels":["orders",${LONE_JSON}],"name":"e","data":{"n":0}}`,
    ];
    for (const body of bodies) {
      const answer = await api.publish(body);
      expect(answer.status).toBe(400);
      expect((answer.body as { error: string }).error).toMatch(/^invalid "channel" .*: .*not well-formed Unicode/);
    }
    expect((await dropped('invalid_channel')) - before).toBe(bodies.length);
    await api.publish({ channel: 'orders', name: 'e', data: { n: 1 } });
    await waitUntil(() => got.length === 1);
    expect(got).toEqual([{ n: 1 }]);
  });

  it("are refused by Pusher's POST /events with 400", async () => {
    const answer = await signedRequest(relay.apiUrl, PUSHER_APP, {
      method: 'POST',
      path: '/events',
      body: `{"channel":${LONE_JSON},"name":"e","data":"{}"}`,
    });
    expect(answer.status).toBe(400);
    expect((answer.body as { error: string }).error).toMatch(/not well-formed Unicode/);
  });

  it('event names that are not well-formed Unicode are refused by POST /events and dropped from Redis', async () => {
    const echo = await fx.echoOn('orders.events');
    const got = collect(echo, 'orders.events', '.e');
    const refused: unknown[] = [];
    // As delivered on this node, and as another node would have made it (UTF-8 turns it to U+FFFD).
    for (const name of ['e\ud800', 'e\ufffd']) rawSocket(echo).on(name, (...args) => refused.push(args));
    await relay.waitForSubscribers('orders.events', 1);
    const before = await dropped('invalid_event');
    const answer = await api.publish(`{"channel":"orders.events","name":${JSON.stringify('e\ud800')},"data":{"n":0}}`);
    expect(answer.status).toBe(400);
    expect((answer.body as { error: string }).error).toMatch(/event must be well-formed Unicode/);
    await fx.laravel.redis.publish(`${PREFIX}orders.events`, `{"event":${JSON.stringify('e\ud800')},"data":{"n":0}}`);
    await fx.laravel.broadcast(['orders.events'], 'e', { n: 1 });
    await waitUntil(() => got.length === 1);
    expect([got, refused]).toEqual([[{ n: 1 }], []]);
    expect((await dropped('invalid_event')) - before).toBe(2);
    expect(relay.logs.matching(/invalid_event \(event must be well-formed Unicode/)).toHaveLength(1);
  });

  it('are dropped from Redis when the Redis channel name is not UTF-8, counted and logged', async () => {
    // What the relay used to make of the name: the room nobody named.
    const mangled = NOT_UTF8.subarray(PREFIX.length).toString();
    const echo = await fx.echoOn(mangled);
    const mangledGot = collect(echo, mangled, '.e');
    const got = collect(echo, 'orders.ok', '.e');
    await relay.waitForSubscribers(mangled, 1);
    const before = await dropped('invalid_channel');
    await fx.laravel.redis.publish(NOT_UTF8, '{"event":"e","data":{"n":0},"socket":null}');
    await fx.laravel.broadcast(['orders.ok'], 'e', { n: 1 });
    await waitUntil(() => got.length === 1);
    expect(mangledGot).toEqual([]);
    expect((await dropped('invalid_channel')) - before).toBe(1);
    expect(relay.logs.matching(/invalid_channel \(the Redis channel name is not valid UTF-8\)/)).toHaveLength(1);
  });

  for (const version of CLIENT_VERSIONS) {
    it(`are refused in a socket.io subscribe, counted as an invalid client message (socket.io-client v${version})`, async () => {
      const before = await dropped('invalid_client_message');
      const echo = await fx.echo({ version });
      rawSocket(echo).emit('subscribe', { channel: LONE, auth: { headers: {} } });
      // Handled in order: once this one has joined, the first was decided.
      rawSocket(echo).emit('subscribe', { channel: `after.v${version}`, auth: { headers: {} } });
      await relay.waitForSubscribers(`after.v${version}`, 1);
      expect(relay.gateway.localSubscriberCount(LONE)).toBe(0);
      expect((await dropped('invalid_client_message')) - before).toBe(1);
      const logged = relay.logs.matching(/ignored "subscribe": missing or invalid channel/);
      expect(logged.length).toBeGreaterThan(0);
      expect(logged.every((line) => /not well-formed Unicode/.test(line))).toBe(true);
    });
  }

  it('are refused in a pusher:subscribe with pusher:error, counted', async () => {
    const { values } = await relay.metrics.pusherDropped.get();
    const before = values.find((v) => v.labels.reason === 'invalid_subscribe')?.value ?? 0;
    const client = await RawPusher.open(relay.port);
    try {
      await client.socketId();
      client.send(`{"event":"pusher:subscribe","data":{"channel":${LONE_JSON}}}`);
      const error = await client.next((f) => f.event === 'pusher:error');
      expect(error.data).toEqual({ code: null, message: 'pusher:subscribe needs {"channel": <a channel name>}' });
      expect(relay.gateway.localSubscriberCount(LONE)).toBe(0);
      const after = (await relay.metrics.pusherDropped.get()).values.find(
        (v) => v.labels.reason === 'invalid_subscribe',
      )?.value;
      expect(after).toBe(before + 1);
      expect(relay.logs.matching(/sent an invalid pusher:subscribe: .*not well-formed Unicode/)).toHaveLength(1);
    } finally {
      client.close();
    }
  });
});
