import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { leaseRenewalMs, PresenceConfig } from './channels.config.js';
import { RedisConfig } from '../redis/redis.config.js';
import { redisNames } from '../redis/redis-namespace.js';
import { defineScript, type ScriptRunner } from '../internals/ioredis-commands.js';
import { closeRedisClient, connectRedis } from '../redis/redis-client.js';
import type { RedisClient } from '../redis/redis-options.js';
import { PresenceDirectory, type PresenceMember } from './presence-directory.js';
import { userKey } from './presence-member.js';
import { ADD_SCRIPT, HEARTBEAT_SCRIPT, PURGE_SCRIPT, REMOVE_SCRIPT } from './presence-scripts.js';
import { isRoomKey } from './room-entry.js';
import { WebhooksConfig } from '../webhooks/webhooks.config.js';
import { anyTargetWants } from '../webhooks/webhook-targets.js';

/** Entries removed per purge script call, so one dead node never blocks Redis for long. */
const PURGE_BATCH = 200;

/** What a lease renewal found: see `RedisPresenceStore.renewLease`. */
export type LeaseState = 'held' | 'purged' | 'lapsed';

/** A user who left a channel because their last socket went away. */
export interface Departure {
  channel: string;
  member: PresenceMember;
}

/**
 * Presence members in Redis, shared by every node: one entry per socket connection, counted per user, so a
 * user with two tabs (on any nodes) is one member. Each node renews a lease; the entries of a node
 * whose lease ran out are purged by whichever node gets to them first.
 */
@Injectable()
export class RedisPresenceStore extends PresenceDirectory implements OnApplicationShutdown {
  /** This process; presence entries are registered under it. */
  readonly nodeId = randomUUID();
  private readonly log = new Logger('Presence');
  private readonly redis: RedisClient;
  private readonly scripts: Record<'add' | 'remove' | 'heartbeat' | 'purge', ScriptRunner>;
  private losses = 0;
  /**
   * The scripts' last two arguments: the webhook leave delay ('' without webhooks: the scripts
   * queue no event) and '1' for `presence.publish`.
   */
  private readonly extras: [string, string];
  /** This app's presence namespace (`redisNames`). */
  private readonly ns: string;

  constructor(
    redisConfig: RedisConfig,
    private readonly config: PresenceConfig,
    webhooks: WebhooksConfig,
  ) {
    super();
    const hooked = anyTargetWants(webhooks, ['member_added', 'member_removed', 'channel_occupied', 'channel_vacated']);
    this.extras = [hooked ? String(webhooks.leaveDelayMs) : '', config.publish ? '1' : ''];
    // Commands wait for Redis however long it is away (ioredis queues them in order), so a
    // removal is never lost to an outage and left behind as a member of a live node.
    // Every presence key of this app (`redisNames`); the hash tag puts them all in one Cluster slot,
    // so the scripts that touch several of them run on one node.
    this.ns = redisNames(redisConfig.prefix).presence;
    this.redis = connectRedis(redisConfig, 'presence', this.log, { maxRetriesPerRequest: null });
    // A Cluster client stays up while one of its nodes fails over: the node's connection goes.
    this.redis.on(redisConfig.clusterNodes.length > 0 ? '-node' : 'close', () => this.losses++);
    this.scripts = {
      add: this.script('presenceAdd', ADD_SCRIPT),
      remove: this.script('presenceRemove', REMOVE_SCRIPT),
      heartbeat: this.script('presenceHeartbeat', HEARTBEAT_SCRIPT),
      purge: this.script('presencePurge', PURGE_SCRIPT),
    };
  }

  /**
   * Records a socket's membership under its entry key (one per Socket object, see `PresenceService`;
   * no spaces); `first` is true when the user had no other entry in the channel.
   */
  async add(
    channel: string,
    entryKey: string,
    member: PresenceMember,
  ): Promise<{ first: boolean; members: PresenceMember[] }> {
    const args = [this.ns, this.nodeId, channel, entryKey, userKey(member), JSON.stringify(member), ...this.extras];
    const [first, ...members] = (await this.scripts.add(...args)) as [number, ...string[]];
    return { first: first === 1, members: parseMembers(members) };
  }

  /** Drops an entry; returns the member when that was the user's last entry in the channel. */
  async remove(channel: string, entryKey: string): Promise<PresenceMember | undefined> {
    const left = (await this.scripts.remove(this.ns, this.nodeId, channel, entryKey, ...this.extras)) as string | null;
    return left === null ? undefined : parseMembers([left])[0];
  }

  /** Distinct users in the channel, each once. */
  async members(channel: string): Promise<PresenceMember[]> {
    return parseMembers(await this.redis.hvals(`${this.ns}ch:${channel}:users`));
  }

  /**
   * Renews this node's lease, renewed every quarter lease, to three quarters of a lease from now:
   * two renewals may be missed, and a node killed just after one is seen dead by a sweep (also
   * every quarter lease) within one lease. `held` while it held; `purged` when it had lapsed and
   * another node purged our entries (their departures were announced); `lapsed` when it had
   * lapsed without that, e.g. Redis restarted empty (nobody saw anyone leave).
   */
  async renewLease(): Promise<LeaseState> {
    const validMs = Math.floor((this.config.leaseMs * 3) / 4);
    const state = (await this.scripts.heartbeat(this.ns, this.nodeId, validMs, ...this.periods)) as number;
    return state === 0 ? 'held' : state === 1 ? 'purged' : 'lapsed';
  }

  /**
   * Sets this node's lease to end `ms` from now (Redis clock) and renews it no more: a graceful
   * stop with a presence leave grace leaves its entries to the other nodes' sweep, which purges
   * and announces those still there when it ends.
   */
  async holdLease(ms: number): Promise<void> {
    await this.scripts.heartbeat(this.ns, this.nodeId, ms, ...this.periods);
  }

  /** Removes the entries of nodes whose lease expired; returns who left. `maxCalls` bounds the work per sweep. */
  purgeExpired(maxCalls = 50): Promise<Departure[]> {
    return this.purge('', maxCalls);
  }

  /** Removes every entry of this node (graceful stop); returns who left. */
  purgeOwn(): Promise<Departure[]> {
    return this.purge(this.nodeId, Number.MAX_SAFE_INTEGER);
  }

  /**
   * Counts the connections to Redis lost so far (on a Cluster, to any of its nodes). Across a
   * failover the promoted replica may lack the last writes made before it (replication is
   * asynchronous): a change tells the lease to write this node's entries again.
   */
  get connectionLosses(): number {
    return this.losses;
  }

  /** Whether commands are answered now; a graceful stop skips its cleanup otherwise. */
  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  async onApplicationShutdown(): Promise<void> {
    await closeRedisClient(this.redis);
  }

  private async purge(node: string, maxCalls: number): Promise<Departure[]> {
    const departures: Departure[] = [];
    for (let call = 0; call < maxCalls; call++) {
      const [found, ...pairs] = (await this.scripts.purge(this.ns, PURGE_BATCH, node, ...this.extras)) as [
        number,
        ...string[],
      ];
      for (let i = 0; i + 1 < pairs.length; i += 2) {
        // A room entry's departure is a `channel_vacated`, queued by the script itself.
        if (isRoomKey(pairs[i])) continue;
        const [member] = parseMembers([pairs[i + 1]]);
        if (member) departures.push({ channel: pairs[i], member });
      }
      if (found === 0) break;
    }
    return departures;
  }

  /** The heartbeat's last two arguments: the renewal period and the lease. */
  private get periods(): [number, number] {
    return [leaseRenewalMs(this.config.leaseMs), this.config.leaseMs];
  }

  private script(name: string, lua: string): ScriptRunner {
    // Declared to Redis as the scripts' key, so a Cluster client routes them to the node of the slot.
    return defineScript(this.redis, name, lua, `${this.ns}nodes`);
  }
}

function parseMembers(values: string[]): PresenceMember[] {
  const members: PresenceMember[] = [];
  for (const value of values) {
    try {
      members.push(JSON.parse(value) as PresenceMember);
    } catch {
      // Not ours: a foreign value under our namespace is skipped, never thrown at a client.
    }
  }
  return members;
}
