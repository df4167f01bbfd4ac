import { describe, expect, it } from '@jest/globals';
import { PresenceDirectory } from '../../src/channels/presence-directory.js';
import { connected, rawSocket, type ClientVersion, type TestEcho } from '../support/echo-client.js';
import { call, cannotStart, type RedisKind, type RedisSetup } from '../support/redis-topologies.js';
import {
  clusterNodes,
  currentMaster,
  masterOfSlot,
  subscriberNodes,
  SteadyPublisher,
  waitForFailover,
} from '../support/failover.js';
import { useFixture, type Fixture } from '../support/fixture.js';
import { sleep, waitUntil } from '../support/ports.js';
import { byJson, joinPresence, type PresenceView } from '../support/presence-view.js';
import type { TestRelay } from '../support/relay.js';

/**
 * Issue #13: a Redis failover loses no broadcast. Laravel publishes every 50 ms while the master
 * is SIGKILLed; every publish Redis accepted must reach every client of both nodes once and in
 * order, presence must not notice, and `/ready` must tell when a node cannot receive broadcasts.
 */

const PREFIX = 'laravel_database_';
const EVENT = 'failover.tick';
const ANN = { id: 1, info: { name: 'Ann' } };
const BOB = { id: 2, info: { name: 'Bob' } };
/** Long enough to outlast a failover, short enough that renewals fall inside it (four per lease). */
const PRESENCE_LEASE_MS = 8_000;
/** Publishing goes on this long after the failover completed: the subscriptions must be back by then. */
const AFTER_FAILOVER_MS = 2_000;

interface Failover {
  name: string;
  kind: RedisKind;
  /** Expected `echo-relay:subscriber` connections over all data nodes, for two echo-relay nodes. */
  subscriptions: number;
  /** The data node to kill, chosen once the subscriptions are in place. */
  victim: (setup: RedisSetup) => Promise<string>;
  /** Env for both nodes. @default {} */
  env?: Record<string, string>;
}

const FAILOVERS: Failover[] = [
  // Subscribed on the master and its replica, each node; the replica's are cut when it is promoted.
  { name: 'the Sentinel master dies', kind: 'sentinel-replicated', subscriptions: 4, victim: currentMaster },
  // Subscribed on two nodes in different shards, each node.
  { name: 'a Cluster master dies', kind: 'cluster-replicated', subscriptions: 4, victim: subscribedMaster },
  {
    name: 'a Cluster node holding subscriptions dies',
    kind: 'cluster-replicated',
    subscriptions: 4,
    victim: busiestSubscriber,
  },
  // Without the shared history a node has only its own subscriptions: nothing another node
  // received can make up for a broadcast it missed.
  {
    name: 'a Cluster node holding subscriptions dies, recovery off',
    kind: 'cluster-replicated',
    subscriptions: 4,
    victim: busiestSubscriber,
    env: { ECHO_RELAY_RECOVERY: 'false' },
  },
];

for (const failover of FAILOVERS) {
  const skip = cannotStart(failover.kind);
  (skip ? describe.skip : describe)(`${failover.name} under steady Laravel broadcasts`, () => {
    const fx = useFixture({
      redis: failover.kind,
      nodes: 2,
      prefix: PREFIX,
      auth: { ann: ANN, bob: BOB },
      env: { ECHO_RELAY_PRESENCE_LEASE_MS: String(PRESENCE_LEASE_MS), ...failover.env },
    });

    it('every broadcast Redis accepted reaches every client on both nodes once, in order; presence is unchanged', async () => {
      await waitUntil(
        async () => (await subscriberNodes(fx.redis)).length === failover.subscriptions,
        10_000,
        `${failover.subscriptions} subscriptions of echo-relay`,
      );
      const channels = await channelsFor(fx.redis);
      const clients = [
        await listener(fx, fx.nodes[0], channels, 4),
        await listener(fx, fx.nodes[1], channels, 4),
        await listener(fx, fx.nodes[1], channels, 2),
      ];
      for (const node of fx.nodes) {
        const here = clients.filter((c) => c.node === node).length;
        for (const channel of channels) await node.waitForSubscribers(channel, here);
      }
      const presence = await presenceOnBothNodes(fx);
      const before = snapshot(presence);

      const publisher = new SteadyPublisher(fx.redis, PREFIX, channels, EVENT);
      publisher.start();
      let failedOverAt: number;
      try {
        await waitUntil(() => clients.every((c) => allReceived(c, channels)), 5000, 'broadcasts before the kill');
        const victim = await failover.victim(fx.redis);
        await fx.redis.kill(victim);
        await waitForFailover(fx.redis, victim);
        failedOverAt = Date.now();
        await sleep(AFTER_FAILOVER_MS);
      } finally {
        await publisher.stop();
      }
      // The publisher followed the failover: Redis accepted its publishes again after it.
      const after = publisher.attempts.filter((a) => a.accepted && a.settledAt > failedOverAt);
      expect(after.length).toBeGreaterThan(AFTER_FAILOVER_MS / 50 / 2);

      const last = publisher.accepted.at(-1)!;
      // Whatever arrives arrives in order: once the last accepted one is in, the rest are too.
      await waitUntil(() => clients.every((c) => allReceived(c, channels, last)), 10_000).catch(() => undefined);
      const problems: Record<string, Problems> = {};
      for (const client of clients) {
        for (const channel of channels) {
          const found = check(client.seqs.get(channel)!, publisher);
          if (found) problems[`${client.name} on ${channel}`] = found;
        }
      }
      expect(problems).toEqual({});

      await expectPresenceUnchanged(fx, presence, before);
    });
  });
}

(cannotStart('cluster') ? describe.skip : describe)('readiness on a Cluster without replicas', () => {
  // Recovery off: once a majority of masters is gone the Cluster refuses every keyed command, the
  // history's included, so only the Laravel subscription itself is under test here.
  const fx = useFixture({ redis: 'cluster', nodes: 1, prefix: PREFIX, env: { ECHO_RELAY_RECOVERY: 'false' } });

  it('/ready fails while no subscription is live, then passes once one moved to a live node, which receives', async () => {
    await waitUntil(async () => (await subscriberNodes(fx.redis)).length === 2, 10_000, 'two subscriptions');
    const held = await subscriberNodes(fx.redis);
    const [survivor] = fx.redis.live().filter((node) => !held.includes(node));
    // While the last node is frozen the subscriptions have nowhere to go: none is live for that long.
    await fx.redis.pause(survivor);
    try {
      await Promise.all(held.map((address) => fx.redis.kill(address)));
      await waitUntil(async () => (await fx.relay.ready()) === 503, 5000, '/ready to fail');
    } finally {
      await fx.redis.resume(survivor);
    }
    await waitUntil(async () => (await fx.relay.ready()) === 200, 20_000, '/ready to pass again');

    expect(await subscriberNodes(fx.redis)).toEqual([survivor]);
    const moved = fx.relay.logs.matching(/Redis subscription moved from /);
    expect(moved.at(-1)).toMatch(new RegExp(`moved from .*${held[0]}.* to ${survivor}$`));
    expect(moved.at(-1)).toContain(held[1]);

    // Ready means it receives: a broadcast published on the survivor reaches a client.
    const client = await listener(fx, fx.relay, ['after'], 4);
    await fx.relay.waitForSubscribers('after', 1);
    await fx.publishTo(`redis://${survivor}`).broadcast(['after'], EVENT, { seq: 1 });
    await waitUntil(() => allReceived(client, ['after'], 1), 5000, 'the broadcast after the move');
  });
});

/** A master holding a subscription of echo-relay, else the master of a replica holding one. */
async function subscribedMaster(setup: RedisSetup): Promise<string> {
  const held = new Set(await subscriberNodes(setup));
  const nodes = await clusterNodes(setup);
  const master = nodes.find((n) => n.master && held.has(n.address));
  if (master) return master.address;
  const replica = nodes.find((n) => !n.master && held.has(n.address))!;
  return nodes.find((n) => n.id === replica.masterOf)!.address;
}

/**
 * The data node holding the most subscriptions of echo-relay: one of each node where there is
 * one, so that no node can make up through the shared history for what its own subscriptions miss.
 */
async function busiestSubscriber(setup: RedisSetup): Promise<string> {
  const held = await subscriberNodes(setup);
  const count = (node: string): number => held.filter((h) => h === node).length;
  return [...held].sort((a, b) => count(b) - count(a))[0];
}

/** One channel on Sentinel; on a Cluster, one whose slot each master serves (the killed one among them). */
async function channelsFor(setup: RedisSetup): Promise<string[]> {
  if (!setup.kind.startsWith('cluster')) return ['orders'];
  const byMaster = new Map<string, string>();
  for (let i = 0; byMaster.size < 3; i++) {
    const channel = `orders-${i}`;
    const slot = Number(await call(setup.live()[0], 'CLUSTER', 'KEYSLOT', PREFIX + channel));
    const master = await masterOfSlot(setup, slot);
    if (!byMaster.has(master)) byMaster.set(master, channel);
  }
  return [...byMaster.values()];
}

/** An Echo client on `node` subscribed to `channels`, recording the `seq` of every broadcast per channel. */
interface Listener {
  name: string;
  node: TestRelay;
  echo: TestEcho;
  seqs: Map<string, number[]>;
}

async function listener(fx: Fixture, node: TestRelay, channels: string[], version: ClientVersion): Promise<Listener> {
  const echo = fx.client({ on: node, version });
  const seqs = new Map(channels.map((c) => [c, [] as number[]]));
  rawSocket(echo).on(EVENT, (channel, data) => seqs.get(channel as string)?.push((data as { seq: number }).seq));
  for (const channel of channels) echo.channel(channel);
  await connected(echo);
  return { name: `v${version} client of node ${fx.nodes.indexOf(node)}`, node, echo, seqs };
}

function allReceived(client: Listener, channels: string[], seq?: number): boolean {
  return channels.every((c) => {
    const got = client.seqs.get(c)!;
    return seq === undefined ? got.length > 0 : got.includes(seq);
  });
}

interface Problems {
  /** Consecutive receptions not strictly increasing: a duplicate or a reordering. */
  disorder: [number, number][];
  /** Accepted by Redis, never received. */
  missing: number[];
  /** Received, never published. */
  unknown: number[];
}

function check(received: number[], publisher: SteadyPublisher): Problems | undefined {
  const disorder: [number, number][] = [];
  for (let i = 1; i < received.length; i++) {
    if (received[i] <= received[i - 1]) disorder.push([received[i - 1], received[i]]);
  }
  const got = new Set(received);
  const attempted = publisher.attempted;
  const problems = {
    disorder,
    missing: publisher.accepted.filter((seq) => !got.has(seq)),
    unknown: received.filter((seq) => !attempted.has(seq)),
  };
  return Object.values(problems).some((list) => list.length > 0) ? problems : undefined;
}

/** Ann on node 0 and Bob on node 1 in `presence-room`, each seeing the other. */
async function presenceOnBothNodes(fx: Fixture): Promise<PresenceView[]> {
  const ann = await joinPresence(await fx.echoAs('ann', { on: fx.nodes[0] }), 'room');
  const bob = await joinPresence(await fx.echoAs('bob', { on: fx.nodes[1] }), 'room');
  await waitUntil(() => ann.joining.length === 1, 5000, "Bob's joining on node 0");
  return [ann, bob];
}

function snapshot(views: PresenceView[]): string {
  return JSON.stringify(views);
}

async function expectPresenceUnchanged(fx: Fixture, views: PresenceView[], before: string): Promise<void> {
  // No member left or joined as far as any client could tell.
  expect(snapshot(views)).toBe(before);
  for (const node of fx.nodes) {
    const members = await node.app.get(PresenceDirectory).members('presence-room');
    expect(byJson(members)).toEqual(byJson([ANN, BOB].map((u) => ({ user_id: u.id, user_info: u.info }))));
  }
  const warnings = fx.nodes.flatMap((node) =>
    node.logs.lines.filter((l) => l.level !== 'log' && /Presence lease renewal failed/.test(l.message)),
  );
  expect(warnings).toEqual([]);
}
