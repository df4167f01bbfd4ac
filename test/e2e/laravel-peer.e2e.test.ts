import { beforeAll, describe, expect, it } from '@jest/globals';
import { CLIENT_VERSIONS, collect, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { LaravelApp, laravelMissing } from '../support/laravel-app.js';
import { waitUntil } from '../support/ports.js';
import { RedisTap } from '../support/redis-tap.js';
import type { TestRelay } from '../support/relay.js';

/** Laravel 8's default `database.redis.options.prefix` for APP_NAME=laravel; the spec checks it. */
const PREFIX = 'laravel_database_';

(laravelMissing() ? describe.skip : describe)(
  'a real Laravel app broadcasts through echo-relay to Laravel Echo',
  () => {
    const fx = useFixture({ prefix: PREFIX });
    let relay: TestRelay;
    let laravel: LaravelApp;
    let tap: RedisTap;

    beforeAll(async () => {
      relay = fx.relay;
      laravel = new LaravelApp(fx.server, { APP_NAME: 'laravel' });
      tap = await RedisTap.open(fx.redis.url);
      fx.defer(() => tap.close());
    });

    async function echoOn(version: 2 | 4, channel: string): Promise<TestEcho> {
      const echo = await fx.echoOn(channel, { version });
      await waitUntil(() => relay.gateway.localSubscriberCount(channel) > 0, 5000, `a subscriber in ${channel}`);
      return echo;
    }

    /** What Laravel published on `channel`, as seen on Redis. */
    function sent(channel: string): { event: string; data: unknown; socket: string | null }[] {
      return tap.on(PREFIX + channel);
    }

    /** Waits for `count` deliveries and as many publishes, then checks the client got Laravel's data. */
    async function receivedAsSent(got: unknown[], channel: string, count = 1): Promise<void> {
      await waitUntil(() => got.length >= count && sent(channel).length >= count, 5000, `${count} on ${channel}`);
      expect(got).toEqual(sent(channel).map((m) => m.data));
    }

    it('publishes under the prefix the relay strips (Laravel 8 default, from APP_NAME)', async () => {
      const info = await laravel.info();
      expect(info.laravel).toMatch(/^8\./);
      expect(info.prefix).toBe(PREFIX);
      expect(relay.config.redis.prefix).toBe(info.prefix);
      await laravel.run('class-name', 'prefix-check');
      await waitUntil(() => sent('prefix-check').length === 1, 5000, 'the publish');
      expect(tap.messages.filter((m) => m.channel.endsWith('prefix-check')).map((m) => m.channel)).toEqual([
        'laravel_database_prefix-check',
      ]);
    });

    for (const version of CLIENT_VERSIONS) {
      describe(`socket.io-client ${version}`, () => {
        const ch = (name: string): string => `${name}.v${version}`;

        it('listen("OrderShipped") gets an event without broadcastAs(): public properties as data', async () => {
          const echo = await echoOn(version, ch('orders'));
          const got = collect(echo, ch('orders'), 'OrderShipped');
          await laravel.run('class-name', ch('orders'));
          await receivedAsSent(got, ch('orders'));
          expect(sent(ch('orders'))[0].event).toBe('App\\Events\\OrderShipped');
          expect(got).toEqual([{ channel: ch('orders'), order: { id: 7, total: 99.5 }, socket: null }]);
        });

        it('listen(".order.shipped") gets a broadcastAs() event with its broadcastWith() data', async () => {
          const echo = await echoOn(version, ch('shipping'));
          const got = collect(echo, ch('shipping'), '.order.shipped');
          await laravel.run('broadcast-as', ch('shipping'));
          await receivedAsSent(got, ch('shipping'));
          expect(got).toEqual([{ id: 8, url: 'https://shop.test/orders/8', socket: null }]);
        });

        it('one event on two channels reaches the listeners of both', async () => {
          const a = await echoOn(version, ch('store'));
          const b = await echoOn(version, ch('admin'));
          const gotA = collect(a, ch('store'), '.status');
          const gotB = collect(b, ch('admin'), '.status');
          await laravel.run('two-channels', ch('store'), ch('admin'));
          await receivedAsSent(gotA, ch('store'));
          await receivedAsSent(gotB, ch('admin'));
          expect([gotA, gotB]).toEqual([[{ status: 'paid', socket: null }], [{ status: 'paid', socket: null }]]);
        });

        it("unicode, emoji and slashes survive PHP's json_encode escaping", async () => {
          const echo = await echoOn(version, ch('i18n'));
          const got = collect(echo, ch('i18n'), '.message');
          await laravel.run('unicode', ch('i18n'));
          await receivedAsSent(got, ch('i18n'));
          expect(got).toEqual([{ room: ch('i18n'), text: 'Grüße, 支付成功 😀🎉 https://shop.test/a/b', socket: null }]);
        });

        it('broadcast()->toOthers() with X-Socket-ID skips exactly the sender', async () => {
          const sender = await echoOn(version, ch('chat'));
          const other = await echoOn(version, ch('chat'));
          await relay.waitForSubscribers(ch('chat'), 2);
          const senderGot = collect(sender, ch('chat'), '.message');
          const otherGot = collect(other, ch('chat'), '.message');
          await laravel.run('to-others', ch('chat'), sender.socketId() ?? '');
          await laravel.run('unicode', ch('chat'));
          await receivedAsSent(otherGot, ch('chat'), 2);
          await waitUntil(() => senderGot.length === 1, 5000, 'the broadcast not sent toOthers');
          expect(sent(ch('chat'))[0].socket).toBe(sender.socketId());
          // the sender gets only the second event
          expect(senderGot).toEqual([sent(ch('chat'))[1].data]);
        });

        it('a broadcast notification reaches channel.notification()', async () => {
          const echo = await echoOn(version, ch('users.42'));
          const got: unknown[] = [];
          echo.channel(ch('users.42')).notification((n: unknown) => got.push(n));
          await laravel.run('notification', ch('users.42'));
          await receivedAsSent(got, ch('users.42'));
          const { id, ...rest } = got[0] as { id: string };
          // the notification id Laravel generated
          expect(id).toMatch(/^[0-9a-f-]{36}$/);
          expect(rest).toEqual({
            invoice: 1001,
            amount: '12.50 €',
            type: 'App\\Notifications\\InvoicePaid',
            socket: null,
          });
        });
      });
    }

    it('a relay left without the prefix warns, naming the prefixed channel Laravel used', async () => {
      const bare = await fx.startNode({ env: { REDIS_PREFIX: '' } });
      await laravel.run('class-name', 'orders.lost');
      await waitUntil(() => bare.logs.matching(/"laravel_database_orders\.lost"/).length > 0, 5000, 'the warning');
    });
  },
);
