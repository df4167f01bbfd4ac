import { describe, expect, it } from '@jest/globals';
import { Cluster, Redis } from 'ioredis';
import { PresenceDirectory } from '../../src/channels/presence-directory.js';
import { recoveryKeys } from '../../src/recovery/recovery-log.js';
import { redisNames } from '../../src/redis/redis-namespace.js';
import { collect, type TestEcho } from '../support/echo-client.js';
import { currentMaster, masterOfKey, waitForFailover } from '../support/failover.js';
import { useFixture, type Fixture } from '../support/fixture.js';
import { phpJsonEncode } from '../support/laravel-publisher.js';
import { sleep, waitUntil } from '../support/ports.js';
import { joinPresence, type PresenceView } from '../support/presence-view.js';
import { cannotStart, SENTINEL_MASTER, type RedisKind } from '../support/redis-topologies.js';
import type { TestRelay } from '../support/relay.js';

/** Short, so a failover (about 3 s here) outlasts the lease's validity of three quarters of it. */
const LEASE_MS = 2000;
const PREFIX = 'laravel_database_';
const ANN = { id: 1, info: { name: 'Ann' } };
const BOB = { id: 2, info: { name: 'Bob' } };
/** A presence key and a recovery key: each kind shares one Cluster slot (its hash tag). */
const PRESENCE_KEY = `${redisNames(PREFIX).presence}nodes`;
const RECOVERY_KEY = recoveryKeys(PREFIX).history;

/**
 * Warnings of the command-side paths (presence and its lease, the sequencer, the recovery feed and
 * sessions, the connections behind them); a failover must log none of them.
 */
const COMMAND_PATH_WARNING =
  /Presence|presence member|Sequencer|sequencer|Appending|recovery session|history went back|Redis \((presence|recovery|recovery-sub|adapter-pub|adapter-sub)\)/;

/**
 * Laravel publishing `tick {n}` every 20 ms through a client that follows the failover (the
 * Sentinel master, or the Cluster node of the channel's slot), remembering which publishes Redis
 * accepted.
 */
class TickPublisher {
  readonly accepted: number[] = [];
  private next = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor(
    private readonly redis: Redis | Cluster,
    channel: string,
  ) {
    this.redis.on('error', () => undefined);
    this.done = this.run(channel);
  }

  static for(fx: Fixture, channel: string): TickPublisher {
    const { sentinels, nodes } = fx.redis;
    const options = { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50 };
    const redis =
      sentinels.length > 0
        ? new Redis({ sentinels: sentinels.map(hostPort), name: SENTINEL_MASTER, ...options })
        : // A publish whose connection closed before the reply is not sent again (Redis may have
          // run it: a second copy would be the publisher's): it counts as failed, like Laravel's.
          new Cluster(nodes.map(hostPort), {
            clusterRetryStrategy: () => 50,
            retryDelayOnFailover: 0,
            redisOptions: options,
          });
    const publisher = new TickPublisher(redis, channel);
    fx.defer(() => publisher.stop());
    return publisher;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    this.redis.disconnect();
  }

  private async run(channel: string): Promise<void> {
    while (this.running) {
      const n = this.next++;
      const payload = phpJsonEncode({ event: 'tick', data: { n }, socket: null });
      try {
        // The channel as the key: a Cluster client sends every publish to the node of its slot,
        // as Laravel's does (publishes through different nodes reach a subscriber in any order).
        await this.redis.eval("redis.call('publish', KEYS[1], ARGV[1])", 1, PREFIX + channel, payload);
        this.accepted.push(n);
      } catch {
        // Refused while the master is down: Laravel saw it fail.
      }
      await sleep(20);
    }
  }
}

function hostPort(address: string): { host: string; port: number } {
  const [host, port] = address.split(':');
  return { host, port: Number(port) };
}

for (const kind of ['sentinel-replicated', 'cluster-replicated'] as RedisKind[]) {
  const skip = cannotStart(kind);
  (skip ? describe.skip : describe)(`command paths through a ${kind} failover`, () => {
    const fx = useFixture({
      redis: kind,
      nodes: 2,
      prefix: PREFIX,
      auth: { ann: ANN, bob: BOB },
      env: { ECHO_RELAY_PRESENCE_LEASE_MS: String(LEASE_MS) },
    });

    /** Kills the master serving `key` (or the Sentinel master) and waits for its replacement. */
    async function failOver(key: string): Promise<void> {
      const master = fx.redis.sentinels.length > 0 ? await currentMaster(fx.redis) : await masterOfKey(fx.redis, key);
      await fx.redis.kill(master);
      await waitForFailover(fx.redis, master);
    }

    it('presence, its lease and the recovery history ride through: nobody leaves, nothing is lost or doubled, no warning', async () => {
      const [nodeA, nodeB] = fx.nodes as [TestRelay, TestRelay];
      const ann = await fx.echoAs('ann', { on: nodeA.url });
      const annView = await joinPresence(ann, 'room');
      const bob = await fx.echoAs('bob', { on: nodeB.url, version: 2 });
      const bobView = await joinPresence(bob, 'room');
      await waitUntil(() => annView.joining.length === 1, 5000, "Bob's joining");
      const ticks: [string, unknown[]][] = [];
      for (const [name, echo] of [
        ['A', ann],
        ['B', bob],
      ] as [string, TestEcho][]) {
        ticks.push([name, collect(echo, 'ticks', '.tick')]);
      }
      await Promise.all([nodeA.waitForSubscribers('ticks', 1), nodeB.waitForSubscribers('ticks', 1)]);
      const warningsBefore = [nodeA, nodeB].map((node) => node.logs.lines.length);

      const publisher = TickPublisher.for(fx, 'ticks');
      await sleep(500);
      await failOver(PRESENCE_KEY);
      // On a Cluster the recovery keys live on another master: fail that one over too.
      if (kind.startsWith('cluster')) {
        expect(await masterOfKey(fx.redis, RECOVERY_KEY)).not.toBe(await masterOfKey(fx.redis, PRESENCE_KEY));
        await failOver(RECOVERY_KEY);
      }
      const afterFailover = publisher.accepted.length;
      await waitUntil(() => publisher.accepted.length > afterFailover + 10, 10_000, 'publishes accepted again');
      // Two leases: every node renewed and swept on the new master(s) several times.
      await sleep(2 * LEASE_MS);
      await publisher.stop();

      const accepted = publisher.accepted;
      for (const [name, got] of ticks) {
        const expected = accepted.length;
        await waitUntil(
          () => got.length >= expected,
          10_000,
          `the ${expected} accepted ticks on node ${name} (got ${got.length})`,
        );
        const ns = got.map((data) => (data as { n: number }).n);
        // Every publish Redis accepted, once, in order (one that Laravel saw fail may arrive too).
        expect(ns.filter((n) => accepted.includes(n))).toEqual(accepted);
        expect(new Set(ns).size).toBe(ns.length);
        expect([...ns].sort((a, b) => a - b)).toEqual(ns);
      }

      const unchanged = (view: PresenceView): unknown[] => [view.joining.length, view.leaving];
      expect(unchanged(annView)).toEqual([1, []]);
      expect(unchanged(bobView)).toEqual([0, []]);
      for (const node of [nodeA, nodeB]) {
        const members = await node.app.get(PresenceDirectory).members('presence-room');
        expect(members.map((m) => m.user_id).sort()).toEqual([1, 2]);
      }
      const warnings = [nodeA, nodeB].flatMap((node, i) =>
        node.logs.lines
          .slice(warningsBefore[i])
          .filter((line) => line.level === 'warn' && COMMAND_PATH_WARNING.test(line.message))
          .map((line) => line.message),
      );
      expect(warnings).toEqual([]);
    });
  });
}
