import { beforeAll, describe, expect, it } from '@jest/globals';
import { CLIENT_VERSIONS, collect, rawSocket, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import type { LaravelPublisher } from '../support/laravel-publisher.js';
import { waitUntil } from '../support/ports.js';
import { droppedCount, type TestRelay } from '../support/relay.js';

const PREFIX = 'laravel_database_';
const MAX_BYTES = 4096;

/** Each entry: what a broken or hostile publisher sends, and the drop reason we expect. */
const MALFORMED: [string, string | Buffer, string][] = [
  ['not JSON', 'this is not json', 'invalid_json'],
  ['truncated JSON', '{"event":"x","data":{', 'invalid_json'],
  ['a JSON string', '"just a string"', 'not_an_object'],
  ['a JSON array', '[1,2,3]', 'not_an_object'],
  ['JSON null', 'null', 'not_an_object'],
  ['no event', '{"data":{}}', 'invalid_event'],
  ['event not a string', '{"event":42,"data":{}}', 'invalid_event'],
  ['empty event', '{"event":"","data":{}}', 'invalid_event'],
  ['reserved socket.io event name', '{"event":"disconnect","data":{}}', 'invalid_event'],
  ['data a string', '{"event":"x","data":"text"}', 'invalid_data'],
  ['data missing', '{"event":"x"}', 'invalid_data'],
  ['socket not a string', '{"event":"x","data":{},"socket":{"id":1}}', 'invalid_socket'],
  ['oversized', JSON.stringify({ event: 'x', data: { pad: 'x'.repeat(MAX_BYTES) } }), 'too_large'],
  ['deeply nested', `{"event":"x","data":${'['.repeat(1000)}${']'.repeat(1000)}}`, 'too_deep'],
  ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x65, 0xff, 0xfe, 0x22, 0x7d]), 'invalid_utf8'],
  ['empty payload', '', 'invalid_json'],
];

describe('malformed Redis messages', () => {
  const fx = useFixture({ prefix: PREFIX, env: { ECHO_RELAY_MAX_MESSAGE_BYTES: String(MAX_BYTES) } });
  let relay: TestRelay;
  let laravel: LaravelPublisher;
  let echo: TestEcho;

  beforeAll(async () => {
    ({ relay, laravel } = fx);
    // Opened in beforeAll: the fixture keeps it for the whole suite.
    echo = await fx.echoOn('orders');
    await relay.waitForSubscribers('orders', 1);
  });

  const dropped = (reason: string): Promise<number> => droppedCount(relay, reason);

  for (const [name, payload, reason] of MALFORMED) {
    it(`drops ${name} (${reason}), logs it, and still delivers the next valid message`, async () => {
      const got = collect(echo, 'orders', `.after.${reason}`);
      const before = await dropped(reason);
      await laravel.publishRaw(`${PREFIX}orders`, payload);
      await laravel.broadcast(['orders'], `after.${reason}`, { ok: true });
      await waitUntil(() => got.length === 1);
      // one more drop counted under its reason
      expect(await dropped(reason)).toBe(before + 1);
      // the drop is logged with channel and reason
      expect(
        relay.logs.matching(new RegExp(`Dropped message on Redis channel "${PREFIX}orders": ${reason}`)).length,
      ).toBeGreaterThan(0);
    });
  }

  it('drops only the bad messages of a Redis read that mixes good and bad ones', async () => {
    const got = collect(echo, 'orders', '.mixed');
    const before = { json: await dropped('invalid_json'), event: await dropped('invalid_event') };
    const good = (n: number) => JSON.stringify({ event: 'mixed', data: { n }, socket: null });
    // One script publishes them all, so the relay reads them together.
    const payloads = [good(1), 'garbage', good(2), '{"event":"","data":{}}', good(3)];
    await laravel.redis.eval(
      "for i = 1, #ARGV do redis.call('publish', KEYS[1], ARGV[i]) end",
      1,
      `${PREFIX}orders`,
      ...payloads,
    );
    await waitUntil(() => got.length === 3);
    expect(got).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await dropped('invalid_json')).toBe(before.json + 1);
    expect(await dropped('invalid_event')).toBe(before.event + 1);
  });

  it('ignores socket.io adapter traffic on the same Redis when subscribed to everything', async () => {
    const bare = await fx.startNode({ env: { REDIS_PREFIX: '' } });
    try {
      const before = (await bare.metrics.messagesDropped.get()).values.reduce((sum, v) => sum + v.value, 0);
      await laravel.publishRaw('socket.io#/#', Buffer.from([0x93, 0xa1, 0x78]));
      await laravel.publishRaw('laravel_database_orders', '{"event":"x","data":{}}');
      await waitUntil(async () => (await bare.metrics.messagesReceived.get()).values.some((v) => v.value >= 1));
      const after = (await bare.metrics.messagesDropped.get()).values.reduce((sum, v) => sum + v.value, 0);
      // adapter messages are not counted as drops
      expect(after).toBe(before);
      await waitUntil(() => bare.logs.matching(/looks like it carries Laravel's Redis prefix/).length === 1);
    } finally {
      await bare.stop();
    }
  });

  it('keeps serving after a flood of garbage', async () => {
    const got = collect(echo, 'orders', '.after.flood');
    await Promise.all(Array.from({ length: 500 }, (_, i) => laravel.publishRaw(`${PREFIX}orders`, `garbage ${i}`)));
    await laravel.broadcast(['orders'], 'after.flood', { ok: true });
    await waitUntil(() => got.length === 1);
    const held = relay.logs.matching(/invalid_json/).length;
    // drop logs are throttled
    expect(held).toBeLessThan(50);
  });
});

describe('malformed socket.io messages from a client', () => {
  const fx = useFixture({ prefix: PREFIX });

  const dropped = (): Promise<number> => droppedCount(fx.relay, 'invalid_client_message');

  async function refused(): Promise<number> {
    const { values } = await fx.relay.metrics.whispers.get();
    return values.find((v) => v.labels.result === 'refused')?.value ?? 0;
  }

  for (const version of CLIENT_VERSIONS) {
    it(`ignores and counts each bad subscribe, unsubscribe and whisper, and the socket keeps working (socket.io-client v${version})`, async () => {
      const socket = rawSocket(await fx.echo({ version }));
      const before = { dropped: await dropped(), refused: await refused() };
      const bad: [string, unknown[]][] = [
        ['subscribe', [{ channel: 42 }]],
        ['subscribe', ['orders']],
        ['subscribe', []],
        // two bodies are none: the message is not Echo's
        ['subscribe', [{ channel: 'orders' }, { channel: 'orders' }]],
        ['subscribe', [{ channel: '' }]],
        ['unsubscribe', [null]],
        ['unsubscribe', [{ channel: ['orders'] }]],
      ];
      for (const [event, args] of bad) socket.emit(event, ...args);
      // Whispers have their own rules and count (whispers{result="refused"}).
      socket.emit('client event', 'not an object');
      socket.emit('client event', { channel: 'private-x', event: 'client-x', data: {} }, { extra: true });
      await waitUntil(async () => (await dropped()) === before.dropped + bad.length);
      await waitUntil(async () => (await refused()) === before.refused + 2);
      expect(fx.relay.gateway.localSubscriberCount('orders')).toBe(0);
      // the event is named as sent
      expect(fx.relay.logs.matching(/ignored "unsubscribe": missing or invalid channel/).length).toBeGreaterThan(0);

      // The same socket still subscribes, an acknowledgement callback set aside as before (Echo
      // asks for none, and none is sent), and receives broadcasts.
      const got: unknown[] = [];
      socket.on('after.bad', (channel, data) => got.push([channel, data]));
      let acked = false;
      socket.emit('subscribe', { channel: 'orders', auth: { headers: {} } }, () => (acked = true));
      await fx.relay.waitForSubscribers('orders', 1);
      await fx.laravel.broadcast(['orders'], 'after.bad', { ok: true });
      await waitUntil(() => got.length >= 1);
      expect(got[0]).toEqual(['orders', { ok: true }]);
      expect(acked).toBe(false);
      expect(await dropped()).toBe(before.dropped + bad.length);
    });
  }
});

/**
 * A field of the wrong type is refused for its type: the drop says "must be a string", not a length
 * that a number or an object cannot have, whether it came from Redis or the HTTP API.
 */
describe('fields of the wrong type', () => {
  const fx = useFixture({ prefix: PREFIX, overrides: { api: { clients: [{ appId: 'shop', key: 'shop-key' }] } } });

  it('are refused from Redis with the type message alone, in the log', async () => {
    const echo = await fx.echoOn('typed');
    const got = collect(echo, 'typed', '.after');
    await fx.relay.waitForSubscribers('typed', 1);
    // One per reason: the drop log is throttled per reason.
    await fx.laravel.publishRaw(`${PREFIX}typed`, '{"event":"x","data":{},"socket":5}');
    await fx.laravel.publishRaw(`${PREFIX}typed`, '{"event":42,"data":{}}');
    await fx.laravel.broadcast(['typed'], 'after', { ok: true });
    await waitUntil(() => got.length === 1);
    const drops = fx.relay.logs.matching(/Dropped message on Redis channel "laravel_database_typed"/);
    expect(drops).toEqual([
      'Dropped message on Redis channel "laravel_database_typed": invalid_socket (socket must be a string)',
      'Dropped message on Redis channel "laravel_database_typed": invalid_event (event must be a string)',
    ]);
  });

  it('are refused by the HTTP API with 400 and the type message alone', async () => {
    const api = fx.api('shop', 'shop-key');
    for (const socketId of [7, { id: 'a' }, ['a'], true]) {
      const answer = await api.publish({ channel: 'typed', name: 'x', data: {}, socket_id: socketId });
      expect([answer.status, answer.body]).toEqual([
        400,
        { error: 'invalid "socket_id" (channel "typed"): socket must be a string' },
      ]);
    }
  });
});
