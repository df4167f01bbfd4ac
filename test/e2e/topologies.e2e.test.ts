import { describe, expect, it } from '@jest/globals';
import { PresenceDirectory } from '../../src/channels/presence-directory.js';
import { collect, connected, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { waitUntil } from '../support/ports.js';
import { byJson, joinPresence } from '../support/presence-view.js';
import { cannotStart } from '../support/redis-topologies.js';
import { TOPOLOGIES } from '../support/topologies.js';

const APP = { appId: 'app', key: 'app-key' };
const ANN = { id: 1, info: { name: 'Ann' } };
const BOB = { id: 2, info: { name: 'Bob' } };

/** One behavioural suite, run against every layout of the table: N nodes must behave as one server. */
for (const topology of TOPOLOGIES) {
  const skip = cannotStart(topology.redis);
  (skip ? describe.skip : describe)(`one logical server: ${topology.name}`, () => {
    const fx = useFixture({
      redis: topology.redis,
      nodes: topology.nodes,
      prefix: 'laravel_database_',
      env: { ECHO_RELAY_CLIENTS: JSON.stringify([APP]) },
      auth: { ann: ANN, bob: BOB },
    });

    /** Node `i`, modulo the node count. */
    const node = (i: number): (typeof fx.nodes)[number] => fx.nodes[i % fx.nodes.length];
    const api = (i: number): ReturnType<typeof fx.api> => fx.api(APP.appId, APP.key, i % fx.nodes.length);

    /** A client on node `i` (socket.io-client 4 on even, 2 on odd `i`), subscribed to `channel`. */
    const clientOn = (i: number, channel: string): Promise<TestEcho> =>
      fx.echoOn(channel, { on: node(i), version: i % 2 === 0 ? 4 : 2 });

    /** Waits until the cluster-wide count, as every node's HTTP API reports it, is `count`. */
    async function waitForCount(channel: string, count: number): Promise<void> {
      await waitUntil(
        async () => {
          for (let i = 0; i < fx.nodes.length; i++) {
            const { body } = await api(i).get(`/channels/${channel}`);
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
      const pipeline = fx.laravel.redis.pipeline();
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
      await fx.laravel.broadcast(['orders'], 'tick', { seq: 'end' });
      await waitUntil(() => got.every((g) => g.length >= 501));
      const expected = [...Array.from({ length: 500 }, (_, seq) => ({ seq })), { seq: 'end' }];
      for (const g of got) expect(g).toEqual(expected);
    });

    it("every channel's broadcast arrives once, published through every Redis data node", async () => {
      // Channel names that hash to different cluster slots, published through different nodes.
      const channels = ['orders', 'users.1', 'alerts', 'chat.42', 'news'];
      const received: unknown[][][] = [];
      for (let i = 0; i < fx.nodes.length; i++) {
        const echo = fx.client({ on: node(i) });
        received.push(channels.map((c) => collect(echo, c, '.tick')));
        await connected(echo);
      }
      for (let i = 0; i < fx.nodes.length; i++) for (const c of channels) await node(i).waitForSubscribers(c, 1);
      for (const [i, address] of fx.redis.nodes.entries()) {
        const laravel = fx.publishTo(`redis://${address}`);
        await laravel.broadcast(channels, 'tick', { node: i });
        await laravel.close();
      }
      const expected = fx.redis.nodes.map((_, i) => ({ node: i }));
      const all = received.flat();
      await waitUntil(() => all.every((g) => g.length === expected.length), 5000, 'every broadcast');
      for (const g of all) expect(g).toEqual(expected);
    });

    it('toOthers() leaves out the sender even when it sits on another node', async () => {
      const sender = await clientOn(0, 'chat');
      const others = await Promise.all([clientOn(1, 'chat'), clientOn(2, 'chat')]);
      const senderGot = collect(sender, 'chat', '.message');
      const othersGot = others.map((o) => collect(o, 'chat', '.message'));
      await waitForCount('chat', 3);
      await fx.laravel.broadcast(['chat'], 'message', { n: 1 }, sender.socketId() ?? null);
      await fx.laravel.broadcast(['chat'], 'message', { n: 2 });
      await waitUntil(() => senderGot.length === 1 && othersGot.every((g) => g.length === 2));
      expect(senderGot).toEqual([{ n: 2 }]);
    });

    it('publishes over the HTTP API of any node to clients on every node, once, minus socket_id', async () => {
      const echoes = await Promise.all([0, 1, 2].map((i) => clientOn(i, 'news')));
      const got = echoes.map((echo) => collect(echo, 'news', '.item'));
      await waitForCount('news', 3);
      for (let i = 0; i < fx.nodes.length; i++) {
        const res = await api(i).publish({ channel: 'news', name: 'item', data: { from: i } });
        expect(res.status).toBe(200);
      }
      const excluded = echoes[echoes.length - 1];
      await api(0).publish({ channel: 'news', name: 'item', data: { from: 'x' }, socket_id: excluded.socketId() });
      const expected = fx.nodes.map((_, i) => ({ from: i }));
      await waitUntil(() => got.slice(0, -1).every((g) => g.length === expected.length + 1));
      await api(0).publish({ channel: 'news', name: 'item', data: { from: 'end' } });
      await waitUntil(() => got.every((g, i) => g.length === expected.length + (i === got.length - 1 ? 1 : 2)));
      // Publishes that entered through different nodes have no order between them: compare as sets.
      const sorted = (events: unknown[]): string[] => events.map((e) => JSON.stringify(e)).sort();
      for (const g of got.slice(0, -1))
        expect(sorted(g)).toEqual(sorted([...expected, { from: 'x' }, { from: 'end' }]));
      expect(sorted(got.at(-1)!)).toEqual(sorted([...expected, { from: 'end' }]));
    });

    it('answers channel lists and counts for the whole cluster from every node', async () => {
      await Promise.all([0, 1, 2, 3].map((i) => clientOn(i, i < 3 ? 'shop.1' : 'shop.2')));
      await waitForCount('shop.1', 3);
      for (let i = 0; i < fx.nodes.length; i++) {
        const { body } = await api(i).get('/channels?filter_by_prefix=shop.');
        expect(body).toEqual({
          channels: {
            'shop.1': { subscription_count: 3, occupied: true },
            'shop.2': { subscription_count: 1, occupied: true },
          },
        });
      }
    });

    it('presence here, joining, whispers and leaving cross nodes', async () => {
      const [nodeA, nodeB] = [node(0), node(1)];
      const ann = await fx.echoAs('ann', { on: nodeA });
      const annView = await joinPresence(ann, 'topology');
      const whispers: unknown[] = [];
      ann.join('topology').listenForWhisper('typing', (d: unknown) => whispers.push(d));
      const bob = await fx.echoAs('bob', { on: nodeB });
      const bobView = await joinPresence(bob, 'topology');
      expect(byJson(bobView.here)).toEqual([ANN.info, BOB.info]);
      await waitUntil(() => annView.joining.length === 1, 5000, 'joining across nodes');
      bob.join('topology').whisper('typing', { from: 'bob' });
      await waitUntil(() => whispers.length === 1, 5000, 'a whisper across nodes');
      bob.disconnect();
      await waitUntil(() => annView.leaving.length === 1, 5000, 'leaving across nodes');
      expect(annView.leaving).toEqual([BOB.info]);
      expect(await nodeB.app.get(PresenceDirectory).members('presence-topology')).toEqual([
        { user_id: 1, user_info: ANN.info },
      ]);
    });

    if (topology.redis === 'single') {
      it('recovers when Redis restarts under traffic, on every node', async () => {
        const echoes = await Promise.all([0, 1, 2].map((i) => clientOn(i, 'live')));
        const got = echoes.map((echo) => collect(echo, 'live', '.tick'));
        await waitForCount('live', 3);
        await fx.server.stop(true);
        await fx.server.start();
        for (const relay of fx.nodes) await waitUntil(async () => (await relay.ready()) === 200, 10_000, 'readiness');
        await fx.laravel.broadcast(['live'], 'tick', { after: 'restart' });
        await waitUntil(() => got.every((g) => g.length >= 1), 5000, 'delivery after the restart');
        await fx.laravel.broadcast(['live'], 'tick', { after: 'end' });
        await waitUntil(() => got.every((g) => g.length >= 2));
        for (const g of got) expect(g).toEqual([{ after: 'restart' }, { after: 'end' }]);
      });
    }
  });
}
