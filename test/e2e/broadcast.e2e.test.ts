import { beforeAll, describe, expect, it } from '@jest/globals';
import { CLIENT_VERSIONS, collect, rawSocket, type TestEcho } from '../support/echo-client.js';
import type { LaravelPublisher } from '../support/laravel-publisher.js';
import { waitUntil } from '../support/ports.js';
import type { TestRelay } from '../support/relay.js';
import { useFixture } from '../support/fixture.js';

const PREFIX = 'laravel_database_';

describe('Laravel broadcasts reach Laravel Echo clients', () => {
  // No Laravel app answers here (nothing listens on port 1): private and presence subscribes must fail cleanly.
  const fx = useFixture({ prefix: PREFIX, env: { ECHO_RELAY_AUTH_HOST: 'http://127.0.0.1:1' } });
  let relay: TestRelay;
  let laravel: LaravelPublisher;

  beforeAll(() => {
    ({ relay, laravel } = fx);
  });

  const echoOn = (version: 2 | 4, channel: string, client: Record<string, unknown> = {}): Promise<TestEcho> =>
    fx.echoOn(channel, { version, client });

  for (const version of CLIENT_VERSIONS) {
    describe(`socket.io-client ${version}`, () => {
      it('delivers an event named after its class, as .listen("OrderShipped") expects', async () => {
        const echo = await echoOn(version, 'orders');
        const got = collect(echo, 'orders', 'OrderShipped');
        await relay.waitForSubscribers('orders', 1);
        await laravel.broadcast(['orders'], 'App\\Events\\OrderShipped', { order: { id: 7 }, socket: null });
        await waitUntil(() => got.length === 1);
        expect(got).toEqual([{ order: { id: 7 }, socket: null }]);
      });

      it('delivers a broadcastAs() event to .listen(".order.shipped")', async () => {
        const echo = await echoOn(version, 'orders');
        const got = collect(echo, 'orders', '.order.shipped');
        await relay.waitForSubscribers('orders', 1);
        await laravel.broadcast(['orders'], 'order.shipped', { id: 1 });
        await waitUntil(() => got.length === 1);
        expect(got).toEqual([{ id: 1 }]);
      });

      it('delivers one EVAL to every channel it names', async () => {
        const a = await echoOn(version, 'orders.1');
        const b = await echoOn(version, 'admin');
        const gotA = collect(a, 'orders.1', '.status');
        const gotB = collect(b, 'admin', '.status');
        await relay.waitForSubscribers('orders.1', 1);
        await relay.waitForSubscribers('admin', 1);
        await laravel.broadcast(['orders.1', 'admin'], 'status', { paid: true });
        await waitUntil(() => gotA.length === 1 && gotB.length === 1);
        expect([gotA, gotB]).toEqual([[{ paid: true }], [{ paid: true }]]);
      });

      it('passes data that is an empty PHP array through as []', async () => {
        const echo = await echoOn(version, 'empty');
        const got = collect(echo, 'empty', '.notice');
        await relay.waitForSubscribers('empty', 1);
        await laravel.broadcast(['empty'], 'notice', []);
        await waitUntil(() => got.length === 1);
        expect(got).toEqual([[]]);
      });

      it('round-trips unicode, emoji and escaped slashes', async () => {
        const echo = await echoOn(version, 'i18n');
        const got = collect(echo, 'i18n', '.message');
        await relay.waitForSubscribers('i18n', 1);
        const data = { text: 'Grüße, 支付成功 😀🎉', url: 'https://shop.test/orders/7' };
        await laravel.broadcast(['i18n'], 'message', data);
        await waitUntil(() => got.length === 1);
        expect(got).toEqual([data]);
      });

      it('a burst arrives complete and in order over WebSocket, long-polling and an upgraded connection', async () => {
        const receivers = [
          await echoOn(version, 'burst', { transports: ['websocket'] }),
          await echoOn(version, 'burst', { transports: ['polling'] }),
          await echoOn(version, 'burst', { transports: ['polling', 'websocket'] }),
        ];
        const got = receivers.map((echo) => collect(echo, 'burst', '.seq'));
        await relay.waitForSubscribers('burst', receivers.length);
        // Payloads on both sides of the 7-, 16- and 64-bit WebSocket length fields, in 2-byte UTF-8.
        const sizes = [0, 100, 35_000];
        const sent = Array.from({ length: 90 }, (_, n) => ({ n, text: 'é'.repeat(sizes[n % sizes.length]) }));
        // One Redis connection, so Redis publishes them in this order.
        await Promise.all(sent.map((data) => laravel.broadcast(['burst'], 'seq', data)));
        await waitUntil(() => got.every((list) => list.length >= sent.length), 15_000, 'every burst delivered');
        for (const list of got) expect(list).toEqual(sent);
      });

      it('toOthers() leaves out exactly the named socket', async () => {
        const sender = await echoOn(version, 'chat');
        const other = await echoOn(version, 'chat');
        const senderGot = collect(sender, 'chat', '.message');
        const otherGot = collect(other, 'chat', '.message');
        await relay.waitForSubscribers('chat', 2);
        await laravel.broadcast(['chat'], 'message', { n: 1 }, sender.socketId() ?? null);
        await laravel.broadcast(['chat'], 'message', { n: 2 });
        await waitUntil(() => otherGot.length === 2 && senderGot.length === 1);
        // the sender only gets the event not sent toOthers
        expect(senderGot).toEqual([{ n: 2 }]);
        expect(otherGot).toEqual([{ n: 1 }, { n: 2 }]);
      });

      it('an unknown socket id excludes nobody', async () => {
        const echo = await echoOn(version, 'chat');
        const got = collect(echo, 'chat', '.message');
        await relay.waitForSubscribers('chat', 1);
        await laravel.broadcast(['chat'], 'message', { n: 1 }, 'gone-socket-id.123');
        await waitUntil(() => got.length === 1);
      });

      it('stops delivering after leave()', async () => {
        const echo = await echoOn(version, 'news');
        const news = collect(echo, 'news', '.item');
        const control = collect(echo, 'control', '.item');
        await relay.waitForSubscribers('news', 1);
        await relay.waitForSubscribers('control', 1);
        echo.leave('news');
        await relay.waitForSubscribers('news', 0);
        await laravel.broadcast(['news'], 'item', { n: 1 });
        await laravel.broadcast(['control'], 'item', { n: 1 });
        await waitUntil(() => control.length === 1);
        expect(news).toEqual([]);
      });

      it('subscribing twice (as Echo does after a reconnect) joins once and delivers once', async () => {
        const echo = await echoOn(version, 'twice');
        const got = collect(echo, 'twice', '.tick');
        await relay.waitForSubscribers('twice', 1);
        rawSocket(echo).emit('subscribe', { channel: 'twice', auth: { headers: {} } });
        await laravel.broadcast(['twice'], 'tick', { n: 1 });
        await laravel.broadcast(['twice'], 'tick', { n: 2 });
        await waitUntil(() => got.length === 2);
        expect(relay.gateway.localSubscriberCount('twice')).toBe(1);
        expect(got).toEqual([{ n: 1 }, { n: 2 }]);
      });

      it('refuses private and presence channels when the auth endpoint cannot be reached', async () => {
        const echo = await echoOn(version, 'public-marker');
        const errors: unknown[][] = [];
        rawSocket(echo).on('subscription_error', (...args) => errors.push(args));
        echo.private('orders.7');
        echo.join('room.1');
        await waitUntil(() => errors.length === 2);
        expect(errors.sort()).toEqual([
          ['presence-room.1', 0],
          ['private-orders.7', 0],
        ]);
        expect(relay.gateway.localSubscriberCount('private-orders.7')).toBe(0);
        expect(relay.gateway.localSubscriberCount('presence-room.1')).toBe(0);
      });
    });
  }

  it('disconnecting leaves every room', async () => {
    const echo = await echoOn(4, 'bye');
    await relay.waitForSubscribers('bye', 1);
    echo.disconnect();
    await relay.waitForSubscribers('bye', 0);
  });

  it('ignores malformed subscribe requests and keeps the socket usable', async () => {
    const echo = await echoOn(4, 'after-junk');
    const socket = rawSocket(echo);
    for (const junk of [
      undefined,
      'orders',
      42,
      {},
      { channel: '' },
      { channel: 'a b' },
      { channel: 'x'.repeat(500) },
    ]) {
      socket.emit('subscribe', junk);
    }
    socket.emit('unsubscribe', null);
    const got = collect(echo, 'after-junk', '.ok');
    await relay.waitForSubscribers('after-junk', 1);
    await laravel.broadcast(['after-junk'], 'ok', { fine: true });
    await waitUntil(() => got.length === 1);
    expect(socket.connected).toBe(true);
  });
});
