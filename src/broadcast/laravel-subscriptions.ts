import type { Logger } from '@nestjs/common';
import type { RedisOptions } from 'ioredis';
import { ThrottledLog } from '../logging/throttled-log.js';
import { closeRedisClient, dropRedisClient } from '../redis/redis-client.js';
import { reconnectDelay, type RedisClient } from '../redis/redis-options.js';
import { MessageMerger } from './message-merger.js';
import type { SubscriptionPlan, SubscriptionTarget } from './subscription-plan.js';

/** Quick reconnects to a planned node before it is given up and the plan asked again. */
const NODE_RETRIES = 3;
/** A node given up is picked again only when nothing else is left, for this long. */
const AVOID_MS = 5_000;
/** The plan is asked again this often (new replicas, a promoted master), and sooner while nothing is live. */
const REPLAN_MS = 5_000;
const REPLAN_UNSUBSCRIBED_MS = 500;
/**
 * One Redis is retried at least this often: what Laravel publishes between Redis coming back and
 * the next attempt is lost, so the attempts stay frequent (they cost one refused connect each).
 */
const SINGLE_RETRY_CAP_MS = 500;

/** One subscription: its node, its connection, and whether the pattern subscription is live on it. */
interface Held {
  target: SubscriptionTarget;
  client: RedisClient;
  live: boolean;
  /** Identifies this connection's message stream to the merger; new on every (re)subscribe. */
  stream: number;
}

export interface LaravelSubscriptionsOptions {
  plan: SubscriptionPlan;
  /** `<prefix>*` */
  pattern: string;
  /** Channels the pattern also matches that are not Laravel's; dropped before merging. */
  ignore: RegExp;
  /**
   * Each message once, in each subscription's order: its channel name decoded as UTF-8, and the
   * name's bytes as Redis gave them (a name that is no UTF-8 decodes with U+FFFD in it).
   */
  onMessage: (channel: string, message: Buffer, channelBytes: Buffer) => void;
  /** Called whenever the number of live subscriptions changes. */
  onChange: () => void;
  log: Logger;
}

/**
 * The pattern subscriptions of one node for Laravel's broadcasts, on the data nodes the plan
 * names (see `SubscriptionPlan`). Each is re-made at once when lost; a node that stays away is
 * given up for another. Messages carried by several subscriptions are merged into one stream
 * (`MessageMerger`), so a node's death costs nothing while another subscription carries on.
 */
export class LaravelSubscriptions {
  private readonly held = new Map<string, Held>();
  private readonly merger?: MessageMerger;
  private readonly avoid = new Map<string, number>();
  private readonly throttled: ThrottledLog;
  /** Nodes whose subscription was lost and not yet replaced, for the "moved" line. */
  private lost: string[] = [];
  private planning?: Promise<void>;
  private planAgain = false;
  private timer?: NodeJS.Timeout;
  private streams = 0;
  private closed = false;
  /** `performance.now()` when the last live subscription was lost, while none is. */
  private downSince?: number;
  /** Copies dropped because another subscription delivered them first. */
  duplicates = 0;

  constructor(private readonly options: LaravelSubscriptionsOptions) {
    this.throttled = new ThrottledLog(options.log);
    if (!options.plan.single) this.merger = new MessageMerger();
  }

  /** Live pattern subscriptions now. */
  get live(): number {
    let live = 0;
    for (const held of this.held.values()) if (held.live) live++;
    return live;
  }

  /** `host:port` of the nodes holding a live subscription. */
  get nodes(): string[] {
    return [...this.held.values()].filter((h) => h.live).map((h) => h.target.address);
  }

  start(): void {
    void this.replan();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const held = [...this.held.values()];
    this.held.clear();
    if (held.some((h) => h.live)) this.options.onChange();
    await Promise.all(held.map((h) => closeRedisClient(h.client)));
    await this.options.plan.close();
  }

  /** Asks the plan where to subscribe and opens or drops subscriptions to match; one run at a time. */
  private replan(): Promise<void> {
    if (this.planning) {
      this.planAgain = true;
      return this.planning;
    }
    this.planning = this.applyPlan().finally(() => {
      this.planning = undefined;
      if (this.closed) return;
      if (this.planAgain) {
        this.planAgain = false;
        void this.replan();
      } else if (!this.options.plan.single) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.replan(), this.live > 0 ? REPLAN_MS : REPLAN_UNSUBSCRIBED_MS);
        this.timer.unref();
      }
    });
    return this.planning;
  }

  private async applyPlan(): Promise<void> {
    const now = Date.now();
    for (const [address, until] of this.avoid) if (until <= now) this.avoid.delete(address);
    let targets: SubscriptionTarget[];
    try {
      targets = await this.options.plan.targets(new Set(this.avoid.keys()));
    } catch (err) {
      this.throttled.warn('plan', `Cannot read the Redis topology to subscribe: ${(err as Error).message}`);
      return;
    }
    if (this.closed) return;
    const wanted = new Set(targets.map((t) => t.address));
    // A live subscription the plan no longer names is left only once another live one is planned:
    // a topology read in the middle of a failover must not cut the last working link.
    const plannedLive = [...this.held.values()].some((h) => h.live && wanted.has(h.target.address));
    for (const [address, held] of this.held) {
      if (!wanted.has(address) && (!held.live || plannedLive)) this.drop(held, 'no longer a node to subscribe on');
    }
    for (const target of targets) if (!this.held.has(target.address)) this.open(target);
  }

  private open(target: SubscriptionTarget): void {
    const { plan } = this.options;
    const extra: RedisOptions = {
      lazyConnect: true,
      // We subscribe on every `ready` ourselves, so the state we report is the real one.
      autoResubscribe: false,
      // One Redis is retried for ever; a node of a larger topology is retried at once, briefly,
      // then given up so the plan can name another (the subscriptions elsewhere carry on).
      retryStrategy: (times: number) => {
        if (this.closed) return null;
        if (plan.single) return Math.min(reconnectDelay(times), SINGLE_RETRY_CAP_MS);
        return times <= NODE_RETRIES ? (times - 1) * 100 : null;
      },
    };
    const client = plan.connect(target, extra);
    const held: Held = { target, client, live: false, stream: -1 };
    this.held.set(target.address, held);
    const where = this.where(target);
    client.on('error', (err: Error) =>
      this.throttled.warn(`error ${target.address}`, `Redis subscriber error${where}: ${err.message}`),
    );
    client.on('ready', () => void this.subscribe(held));
    client.on('close', () => this.onClose(held));
    client.on('end', () => this.onEnd(held));
    client.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) =>
      this.receive(held, channel, message),
    );
    client.connect().catch((err: Error) => {
      if (this.current(held))
        this.throttled.warn(`connect ${target.address}`, `Redis not reachable${where} (${err.message})`);
    });
  }

  private async subscribe(held: Held): Promise<void> {
    const { pattern, log } = this.options;
    try {
      await held.client.psubscribe(pattern);
    } catch (err) {
      if (this.current(held))
        log.error(`Could not subscribe to "${pattern}"${this.where(held.target)}: ${(err as Error).message}`);
      return;
    }
    if (!this.current(held) || held.live) return;
    held.live = true;
    held.stream = this.streams++;
    const gap =
      this.downSince === undefined ? '' : ` after ${Math.round(performance.now() - this.downSince)} ms without one`;
    this.downSince = undefined;
    log.log(`Subscribed to Redis pattern "${pattern}"${this.where(held.target)} for Laravel broadcasts${gap}`);
    const from = this.lost.filter((address) => address !== held.target.address);
    if (from.length > 0) log.log(`Redis subscription moved from ${from.join(', ')} to ${held.target.address}`);
    this.lost = [];
    this.options.onChange();
  }

  private receive(held: Held, channelBytes: Buffer, message: Buffer): void {
    const channel = channelBytes.toString();
    if (this.options.ignore.test(channel)) return;
    if (this.merger && !this.merger.accept(held.stream, channel, message)) {
      this.duplicates++;
      return;
    }
    this.options.onMessage(channel, message, channelBytes);
  }

  private onClose(held: Held): void {
    if (!held.live) return;
    held.live = false;
    if (this.closed || !this.current(held)) return;
    const { log, plan } = this.options;
    if (this.live === 0) this.downSince = performance.now();
    this.options.onChange();
    if (plan.single) {
      log.warn('Redis subscription lost; reconnecting');
      return;
    }
    const live = this.nodes;
    log.warn(
      `Redis subscription on ${held.target.address} lost; ` +
        (live.length > 0 ? `still subscribed on ${live.join(', ')}` : 'not receiving broadcasts until one is back'),
    );
    void this.replan();
  }

  /** ioredis gave up on the node: avoid it for a while and ask the plan for another. */
  private onEnd(held: Held): void {
    if (this.closed || !this.current(held)) return;
    this.held.delete(held.target.address);
    this.avoid.set(held.target.address, Date.now() + AVOID_MS);
    this.remember(held.target.address);
    void this.replan();
  }

  private drop(held: Held, why: string): void {
    this.held.delete(held.target.address);
    this.remember(held.target.address);
    if (held.live) {
      held.live = false;
      this.options.log.log(`Leaving the Redis subscription on ${held.target.address}: ${why}`);
      this.options.onChange();
    }
    dropRedisClient(held.client);
  }

  private remember(address: string): void {
    if (!this.lost.includes(address)) this.lost.push(address);
  }

  private current(held: Held): boolean {
    return !this.closed && this.held.get(held.target.address) === held;
  }

  private where(target: SubscriptionTarget): string {
    return target.role === 'redis' ? '' : ` on ${target.address} (${target.role})`;
  }
}
