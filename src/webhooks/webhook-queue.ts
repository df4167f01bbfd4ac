import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { defineScript, type ScriptRunner } from '../internals/ioredis-commands.js';
import { closeRedisClient, connectRedis } from '../redis/redis-client.js';
import { RedisConfig } from '../redis/redis.config.js';
import { redisNames } from '../redis/redis-namespace.js';
import { CALL_MEMORY_MS, type RedisClient } from '../redis/redis-options.js';
import { RELEASE_SCRIPT } from './webhook-scripts.js';
import { wants, type QueuedEvent, type WebhookTarget } from './webhook-targets.js';
import { WebhooksConfig } from './webhooks.config.js';

type Script = 'lead' | 'trim' | 'move' | 'resign' | 'release';

/** ARGV: node, ms. Takes the dispatcher lock, or extends it when this node holds it; 1 when it does. */
const LEAD_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
return 1
`;

/**
 * ARGV: node, queue key, count, call key. Drops a sent batch, only while this node still holds the
 * lock, and once: the same call sent again after its reply was lost (see `CALL_MEMORY_MS`) would
 * drop the next batch, unsent.
 */
const TRIM_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', ARGV[4]) == 1 then return 1 end
redis.call('LTRIM', ARGV[2], tonumber(ARGV[3]), -1)
redis.call('SET', ARGV[4], '1', 'PX', ${CALL_MEMORY_MS})
return 1
`;

/**
 * KEYS[1] the outbox. ARGV: call key, count, then per receiver its queue key, how many entries
 * follow, and those entries. Appends each receiver's entries to its queue and drops the first
 * `count` of the outbox, once: the same call sent again (see `CALL_MEMORY_MS`) would queue the
 * batch twice and drop the next one unqueued.
 */
const MOVE_SCRIPT = `
if redis.call('EXISTS', ARGV[1]) == 1 then return 0 end
local i = 3
while i <= #ARGV do
  local key, n = ARGV[i], tonumber(ARGV[i + 1])
  for from = i + 2, i + 1 + n, 1000 do
    redis.call('RPUSH', key, unpack(ARGV, from, math.min(from + 999, i + 1 + n)))
  end
  i = i + 2 + n
end
redis.call('LTRIM', KEYS[1], tonumber(ARGV[2]), -1)
redis.call('SET', ARGV[1], '1', 'PX', ${CALL_MEMORY_MS})
return 1
`;

/** ARGV: node. Gives the lock up when this node holds it. */
const RESIGN_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

/**
 * The webhook events in Redis (keys in `HOOK_FUNCTIONS`), so pending deliveries outlive the node
 * that queued them. Every key shares the presence namespace's Cluster slot, where the presence
 * scripts queue their events. One node at a time, the holder of the lock, moves and sends them,
 * which keeps each receiver's events in order.
 */
@Injectable()
export class WebhookQueue implements OnApplicationShutdown {
  private readonly log = new Logger('Webhooks');
  private readonly connection?: { redis: RedisClient; scripts: Record<Script, ScriptRunner> };

  /** The app's presence namespace (`redisNames`): the presence scripts queue their events there too. */
  private readonly ns: string;
  private readonly outbox: string;
  private readonly queueKey: (target: WebhookTarget) => string;
  private readonly callPrefix = `${randomUUID()}:`;
  private calls = 0;

  constructor(redisConfig: RedisConfig, config: WebhooksConfig) {
    const ns = (this.ns = redisNames(redisConfig.prefix).presence);
    this.outbox = `${ns}wh:outbox`;
    this.queueKey = (target) => `${ns}wh:q:${target.id}`;
    const lock = `${ns}wh:lock`;
    // Without webhooks, no connection: nothing is ever queued.
    if (config.targets.length === 0 && config.url === '') return;
    const redis = connectRedis(redisConfig, 'webhooks', this.log);
    const scripts = {
      lead: defineScript(redis, 'webhookLead', LEAD_SCRIPT, lock),
      trim: defineScript(redis, 'webhookTrim', TRIM_SCRIPT, lock),
      move: defineScript(redis, 'webhookMove', MOVE_SCRIPT, this.outbox),
      resign: defineScript(redis, 'webhookResign', RESIGN_SCRIPT, lock),
      release: defineScript(redis, 'webhookRelease', RELEASE_SCRIPT, lock),
    };
    this.connection = { redis, scripts };
  }

  /** A key naming one call of the scripts that must not run twice (see `CALL_MEMORY_MS`). */
  private nextCall(): string {
    return `${this.ns}wh:call:${this.callPrefix}${++this.calls}`;
  }

  private get redis(): RedisClient {
    if (!this.connection) throw new Error('no webhooks are configured');
    return this.connection.redis;
  }

  private get scripts(): Record<Script, ScriptRunner> {
    if (!this.connection) throw new Error('no webhooks are configured');
    return this.connection.scripts;
  }

  /** Queues an event decided outside the presence scripts (a client event). */
  async push(event: QueuedEvent): Promise<void> {
    await this.redis.rpush(this.outbox, JSON.stringify(event));
  }

  /**
   * Queues an event unless one with the same `once` was queued, by any node, in the last `ms`;
   * whether it was queued. The marker shares the namespace's slot, beside the outbox.
   */
  async pushOnce(event: QueuedEvent, once: string, ms: number): Promise<boolean> {
    const first = await this.redis.set(`${this.ns}wh:once:${once}`, '1', 'PX', ms, 'NX');
    if (first !== 'OK') return false;
    await this.push(event);
    return true;
  }

  /** Whether this node holds the dispatcher lock for the next `ms` (taken or extended). */
  async lead(node: string, ms: number): Promise<boolean> {
    return (await this.scripts.lead(node, ms)) === 1;
  }

  async resign(node: string): Promise<void> {
    await this.scripts.resign(node);
  }

  /** Moves held leave events whose delay ended to the outbox; returns how many. */
  async releaseDue(batch: number): Promise<number> {
    return (await this.scripts.release(this.ns, batch)) as number;
  }

  /**
   * Moves up to `max` events from the outbox to the queues of the receivers that want them, in one
   * transaction. Returns how many each receiver got, and the entries no receiver could read.
   */
  async fanOut(targets: readonly WebhookTarget[], max: number): Promise<{ queued: number[]; unreadable: number }> {
    const raw = await this.redis.lrange(this.outbox, 0, max - 1);
    const queued = targets.map(() => 0);
    if (raw.length === 0) return { queued, unreadable: 0 };
    const events = raw.map(parseEvent);
    const args: (string | number)[] = [this.nextCall(), raw.length];
    targets.forEach((target, i) => {
      const mine = raw.filter((_, j) => events[j] && wants(target, events[j]));
      queued[i] = mine.length;
      args.push(this.queueKey(target), mine.length, ...mine);
    });
    await this.scripts.move(...args);
    return { queued, unreadable: events.filter((e) => !e).length };
  }

  /** The oldest `count` entries of a receiver's queue (raw: some may be unreadable). */
  head(target: WebhookTarget, count: number): Promise<string[]> {
    return this.redis.lrange(this.queueKey(target), 0, count - 1);
  }

  /** Drops the oldest `count` entries of a receiver's queue, if this node still leads. */
  async drop(node: string, target: WebhookTarget, count: number): Promise<boolean> {
    return (await this.scripts.trim(node, this.queueKey(target), count, this.nextCall())) === 1;
  }

  /** Events waiting in every receiver's queue, and in the outbox. */
  async pending(targets: readonly WebhookTarget[]): Promise<number> {
    const lengths = await Promise.all([this.outbox, ...targets.map(this.queueKey)].map((key) => this.redis.llen(key)));
    return lengths.reduce((a, b) => a + b, 0);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.connection) await closeRedisClient(this.connection.redis);
  }
}

/** A queued event, or undefined for an entry that is not one (it is dropped and counted). */
export function parseEvent(text: string): QueuedEvent | undefined {
  try {
    const event = JSON.parse(text) as QueuedEvent;
    return typeof event?.name === 'string' && typeof event.channel === 'string' ? event : undefined;
  } catch {
    return undefined;
  }
}
