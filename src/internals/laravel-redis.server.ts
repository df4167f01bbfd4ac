/**
 * Written against @nestjs/microservices 12.1.1 and ioredis 6.0.0 (see WRITTEN_AGAINST in
 * ./written-against.ts).
 *
 * Nest internals used: `ServerRedis` overridden in `listen`, `getRouteFromPattern` and `close`;
 * its protected fields `isManuallyClosed`, `transportId`, `deserializer` and `_status$` (written
 * with `next`, read by Nest's `status`); and `Server#handleEvent(pattern, packet, context)`, which
 * runs the handler's pipes and filters. The Redis connections are LaravelSubscriptions' own (ioredis:
 * the `pmessageBuffer` event (pattern, channel, message) and `lazyConnect`/`autoResubscribe`).
 *
 * Contract: ./laravel-redis.server.contract.test.ts (its batching and reconnect state:
 * ./laravel-redis.server.test.ts).
 */
import { Logger } from '@nestjs/common';
import { RedisContext, ServerRedis, Transport } from '@nestjs/microservices';
import { LaravelSubscriptions } from '../broadcast/laravel-subscriptions.js';
import type { SubscriptionPlan } from '../broadcast/subscription-plan.js';
import {
  LARAVEL_BROADCAST,
  LaravelDeserializer,
  type IncomingBatch,
  type IncomingBroadcast,
} from '../broadcast/laravel.deserializer.js';
import { subscriptionPattern } from '../broadcast/laravel-prefix.js';

export interface LaravelRedisServerOptions {
  /** Where the subscriptions go (single Redis, Sentinel or Cluster) and how to connect there. */
  plan: SubscriptionPlan;
  /** Laravel's channel prefix; the subscription is `<prefix>*`. */
  prefix: string;
  maxMessageBytes: number;
}

/**
 * socket.io's Redis adapter and echo-relay's recovery notifications talk on these channels; with an
 * empty prefix we see them too.
 */
const FOREIGN_CHANNEL = /^(?:socket\.io[#-]|echo-relay#)/;

/**
 * Nest's Redis transport, fitted to Laravel: pattern subscriptions (`<prefix>*`) whose messages
 * all go to the `LARAVEL_BROADCAST` event handler, one `IncomingBatch` per Redis read (see
 * there), raw bytes so invalid UTF-8 is seen, no reply publisher, and subscriptions that never
 * give up: on Sentinel and Cluster several at once, so a failover loses nothing
 * (`LaravelSubscriptions`). Startup does not wait for Redis: the HTTP side comes up and readiness
 * reports the subscription.
 */
export class LaravelRedisServer extends ServerRedis {
  private readonly log = new Logger('RedisSubscriber');
  private readonly pattern: string;
  private subscriptions?: LaravelSubscriptions;
  private subscribedNow = false;
  /** Messages of the current Redis read, handed to the handler once the read is processed. */
  private pending: IncomingBroadcast[] = [];
  private pendingSince = 0;

  constructor(private readonly settings: LaravelRedisServerOptions) {
    super({ wildcards: true, deserializer: new LaravelDeserializer(settings) });
    this.transportId = Transport.REDIS;
    this.pattern = subscriptionPattern(settings.prefix);
  }

  /** True while at least one pattern subscription is live on a connected Redis. */
  get subscribed(): boolean {
    return this.subscribedNow;
  }

  /** Live pattern subscriptions (more than one on Sentinel and Cluster). */
  get liveSubscriptions(): number {
    return this.subscriptions?.live ?? 0;
  }

  /** Copies of a message dropped because another of this node's subscriptions delivered it first. */
  get duplicatesMerged(): number {
    return this.subscriptions?.duplicates ?? 0;
  }

  override listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      this.subscriptions = new LaravelSubscriptions({
        plan: this.settings.plan,
        pattern: this.pattern,
        ignore: FOREIGN_CHANNEL,
        onMessage: (channel, message, channelBytes) => this.onMessage(channel, message, channelBytes),
        onChange: () => this.onSubscriptionChange(),
        log: this.log,
      });
      this.subscriptions.start();
      callback();
    } catch (err) {
      callback(err);
    }
    return Promise.resolve();
  }

  /**
   * Nest routes every message by JSON-parsing its pattern, which throws (and is caught) for a plain
   * name like ours: an exception per message on the hot path. Our one route needs no parsing.
   */
  override getRouteFromPattern(pattern: string): string {
    return pattern === LARAVEL_BROADCAST ? LARAVEL_BROADCAST : super.getRouteFromPattern(pattern);
  }

  override async close(): Promise<void> {
    this.isManuallyClosed = true;
    await this.subscriptions?.close();
    this.onSubscriptionChange();
  }

  private onSubscriptionChange(): void {
    const subscribed = !this.isManuallyClosed && (this.subscriptions?.live ?? 0) > 0;
    if (subscribed === this.subscribedNow) return;
    this.subscribedNow = subscribed;
    this._status$.next((subscribed ? 'connected' : 'disconnected') as never);
  }

  /**
   * ioredis emits every message of one socket read synchronously; they are collected and handed
   * over together in a microtask, which runs as soon as that read is processed. Order is kept:
   * the handler does no I/O, so a batch is delivered before the next read is parsed.
   */
  private onMessage(channel: string, message: Buffer, channelBytes: Buffer): void {
    const context = { channel, channelBytes };
    const incoming = (this.deserializer.deserialize(message, context) as { data: IncomingBroadcast }).data;
    if (this.pending.length === 0) {
      this.pendingSince = performance.now();
      queueMicrotask(this.flush);
    }
    this.pending.push(incoming);
  }

  private readonly flush = (): void => {
    const batch: IncomingBatch = { receivedAt: this.pendingSince, messages: this.pending };
    this.pending = [];
    const ctx = new RedisContext([this.pattern, undefined]);
    // handleEvent runs the pipe, the handler and the drop filter, which account for every
    // message; this catch only guards against a failure in Nest itself.
    this.handleEvent(LARAVEL_BROADCAST, { pattern: LARAVEL_BROADCAST, data: batch }, ctx).catch((err: unknown) =>
      this.log.error(`Broadcast handler failed for ${batch.messages.length} message(s): ${String(err)}`),
    );
  };
}
