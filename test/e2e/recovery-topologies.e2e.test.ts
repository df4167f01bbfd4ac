import { beforeAll, describe, expect, it } from '@jest/globals';
import { connected } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import type { ApiClient } from '../support/http-api.js';
import { waitUntil } from '../support/ports.js';
import {
  broadcasts,
  dataOf,
  metric,
  offline,
  offsetsAscend,
  proxyTo,
  recordAll,
  RECONNECTING,
  RECOVERIES,
  sequenced,
  waitForBroadcasts,
} from '../support/recovery.js';
import { cannotStart, type RedisKind } from '../support/redis-topologies.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

const PREFIX = 'laravel_database_';
const APP = { appId: 'app', key: 'app-key' };
const KINDS: RedisKind[] = ['single', 'cluster', 'sentinel'];

/**
 * The core drop-and-recover case on every Redis topology, with two nodes: the history, the
 * sessions and the sequencer lease share one hash tag, so a Cluster serves them from one slot.
 */
for (const kind of KINDS) {
  const skip = cannotStart(kind);
  (skip ? describe.skip : describe)(`recovery on ${kind} Redis, two nodes`, () => {
    const fx = useFixture({
      redis: kind,
      nodes: 2,
      prefix: PREFIX,
      env: { ECHO_RELAY_CLIENTS: JSON.stringify([APP]) },
    });
    let proxy: TcpProxy;
    let api: ApiClient;

    beforeAll(async () => {
      proxy = await proxyTo(fx, fx.nodes[0].port);
      api = fx.api(APP.appId, APP.key, 1);
    });

    const tick = (n: number | string): Promise<void> => fx.laravel.broadcast(['orders'], 'tick', { n });
    const publish = async (n: number | string): Promise<void> => {
      expect((await api.publish({ channel: 'orders', name: 'tick', data: { n } })).status).toBe(200);
    };

    it('a dropped client gets what Laravel and the HTTP API published meanwhile, once, in order', async () => {
      const echo = fx.client({ on: proxy.url, client: RECONNECTING });
      const got = recordAll(echo);
      echo.channel('orders');
      await connected(echo);
      const observer = fx.client({ on: fx.nodes[1] });
      const seen = recordAll(observer);
      observer.channel('orders');
      await connected(observer);
      await fx.nodes[0].waitForSubscribers('orders', 1);
      await fx.nodes[1].waitForSubscribers('orders', 1);
      // Each published once the last is in the history: Laravel's and the API's have no order otherwise.
      const inOrder = (publishing: () => Promise<void>): Promise<void> => sequenced(seen, 'orders', 'tick', publishing);
      await inOrder(() => tick(1));
      await inOrder(() => publish(2));
      await waitForBroadcasts(got, 'orders', 'tick', 2);
      const id = echo.socketId();

      const back = await offline(echo, proxy, async () => {
        await fx.nodes[0].waitForSubscribers('orders', 0);
        await inOrder(() => tick(3));
        await inOrder(() => publish(4));
        await inOrder(() => tick(5));
      });

      expect(back).toMatchObject({ id, recovered: true });
      await inOrder(() => publish(6));
      await inOrder(() => tick('end'));
      await waitForBroadcasts(got, 'orders', 'tick', 7);
      expect(dataOf(got, 'orders', 'tick')).toEqual([1, 2, 3, 4, 5, 6, 'end'].map((n) => ({ n })));
      expect(offsetsAscend(broadcasts(got, 'orders', 'tick'))).toBe(true);
      // Both nodes deliver from one history: the same offsets on either.
      await waitForBroadcasts(seen, 'orders', 'tick', 7);
      expect(broadcasts(got, 'orders', 'tick')).toEqual(broadcasts(seen, 'orders', 'tick'));
      await waitUntil(async () => (await metric(fx.nodes[0].apiUrl, RECOVERIES, { result: 'recovered' })) === 1);
    });
  });
}
