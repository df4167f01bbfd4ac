import assert from 'node:assert/strict';
import { afterAll, afterEach, beforeAll, describe, it } from '@jest/globals';
import { collect, connected, createEcho, type TestEcho } from '../support/echo-client.js';
import { waitUntil } from '../support/ports.js';
import { CLUSTER_SETUPS, startRelayCluster, type RelayCluster } from '../support/relay-cluster.js';
import { canStartTopologies } from '../support/redis-topologies.js';

/** One behavioural suite, run against every layout: N nodes must behave as one server. */
for (const setup of CLUSTER_SETUPS) {
  const skip = setup.redis === 'cluster' && !canStartTopologies() && 'needs redis-server and redis-cli';
  (skip ? describe.skip : describe)(`one logical server: ${setup.name}`, () => {
    let cluster: RelayCluster;
    const clients: TestEcho[] = [];

    beforeAll(async () => {
      cluster = await startRelayCluster(setup);
    });
    afterAll(async () => {
      await cluster?.close();
    });
    afterEach(() => {
      clients.splice(0).forEach((echo) => echo.disconnect());
    });

    /** A client on node `i` (modulo the node count), subscribed to `channel`. */
    async function clientOn(i: number, channel: string): Promise<TestEcho> {
      const echo = createEcho(cluster.nodes[i % cluster.nodes.length].url, i % 2 === 0 ? 4 : 2);
      clients.push(echo);
      echo.channel(channel);
      await connected(echo);
      return echo;
    }

    /** Waits until the cluster-wide count, as every node's HTTP API reports it, is `count`. */
    async function waitForCount(channel: string, count: number): Promise<void> {
      await waitUntil(
        async () => {
          for (let i = 0; i < cluster.nodes.length; i++) {
            const { body } = await cluster.api(i).get(`/channels/${channel}`);
            if ((body as { subscription_count?: number }).subscription_count !== count) return false;
          }
          return true;
        },
        5000,
        `${count} subscription(s) to ${channel} on every node`,
      );
    }

    it('delivers each of 500 Laravel broadcasts exactly once, in order, to clients on every node', async () => {
      const echoes = await Promise.all(Array.from({ length: 9 }, (_, i) => clientOn(i, 'orders')));
      const got = echoes.map((echo) => collect(echo, 'orders', '.tick'));
      await waitForCount('orders', 9);
      const pipeline = cluster.laravel.redis.pipeline();
      for (let seq = 0; seq < 500; seq++) {
        pipeline.eval(
          "redis.call('publish', ARGV[2], ARGV[1])",
          0,
          JSON.stringify({ event: 'tick', data: { seq } }),
          'laravel_database_orders',
        );
      }
      await pipeline.exec();
      await waitUntil(() => got.every((g) => g.length >= 500), 15_000, 'every client to get 500 events');
      await cluster.laravel.broadcast(['orders'], 'tick', { seq: 'end' });
      await waitUntil(() => got.every((g) => g.length >= 501));
      const expected = [...Array.from({ length: 500 }, (_, seq) => ({ seq })), { seq: 'end' }];
      for (const g of got) assert.deepEqual(g, expected);
    });

    it('toOthers() leaves out the sender even when it sits on another node', async () => {
      const sender = await clientOn(0, 'chat');
      const others = await Promise.all([clientOn(1, 'chat'), clientOn(2, 'chat')]);
      const senderGot = collect(sender, 'chat', '.message');
      const othersGot = others.map((o) => collect(o, 'chat', '.message'));
      await waitForCount('chat', 3);
      await cluster.laravel.broadcast(['chat'], 'message', { n: 1 }, sender.socketId() ?? null);
      await cluster.laravel.broadcast(['chat'], 'message', { n: 2 });
      await waitUntil(() => senderGot.length === 1 && othersGot.every((g) => g.length === 2));
      assert.deepEqual(senderGot, [{ n: 2 }]);
    });

    it('publishes over the HTTP API of any node to clients on every node, once, minus socket_id', async () => {
      const echoes = await Promise.all([0, 1, 2].map((i) => clientOn(i, 'news')));
      const got = echoes.map((echo) => collect(echo, 'news', '.item'));
      await waitForCount('news', 3);
      for (let i = 0; i < cluster.nodes.length; i++) {
        const res = await cluster.api(i).publish({ channel: 'news', name: 'item', data: { from: i } });
        assert.equal(res.status, 200);
      }
      const excluded = echoes[echoes.length - 1];
      await cluster
        .api(0)
        .publish({ channel: 'news', name: 'item', data: { from: 'x' }, socket_id: excluded.socketId() });
      const expected = cluster.nodes.map((_, i) => ({ from: i }));
      await waitUntil(() => got.slice(0, -1).every((g) => g.length === expected.length + 1));
      await cluster.api(0).publish({ channel: 'news', name: 'item', data: { from: 'end' } });
      await waitUntil(() => got.every((g, i) => g.length === expected.length + (i === got.length - 1 ? 1 : 2)));
      // Publishes that entered through different nodes have no order between them: compare as sets.
      const sorted = (events: unknown[]): string[] => events.map((e) => JSON.stringify(e)).sort();
      for (const g of got.slice(0, -1))
        assert.deepEqual(sorted(g), sorted([...expected, { from: 'x' }, { from: 'end' }]));
      assert.deepEqual(sorted(got.at(-1)!), sorted([...expected, { from: 'end' }]));
    });

    it('answers channel lists and counts for the whole cluster from every node', async () => {
      await Promise.all([0, 1, 2, 3].map((i) => clientOn(i, i < 3 ? 'shop.1' : 'shop.2')));
      await waitForCount('shop.1', 3);
      for (let i = 0; i < cluster.nodes.length; i++) {
        const { body } = await cluster.api(i).get('/channels?filter_by_prefix=shop.');
        assert.deepEqual(body, {
          channels: {
            'shop.1': { subscription_count: 3, occupied: true },
            'shop.2': { subscription_count: 1, occupied: true },
          },
        });
      }
    });

    if (setup.redis === 'single') {
      it('recovers when Redis restarts under traffic, on every node', async () => {
        const echoes = await Promise.all([0, 1, 2].map((i) => clientOn(i, 'live')));
        const got = echoes.map((echo) => collect(echo, 'live', '.tick'));
        await waitForCount('live', 3);
        await cluster.restartRedis!();
        for (const node of cluster.nodes)
          await waitUntil(async () => (await node.ready()) === 200, 10_000, 'readiness');
        await cluster.laravel.broadcast(['live'], 'tick', { after: 'restart' });
        await waitUntil(() => got.every((g) => g.length >= 1), 5000, 'delivery after the restart');
        await cluster.laravel.broadcast(['live'], 'tick', { after: 'end' });
        await waitUntil(() => got.every((g) => g.length >= 2));
        for (const g of got) assert.deepEqual(g, [{ after: 'restart' }, { after: 'end' }]);
      });
    }
  });
}
