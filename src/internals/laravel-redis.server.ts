/**
 * Written against @nestjs/microservices 12.1.1 and ioredis 6.0.0 (see WRITTEN_AGAINST in
 * ./written-against.ts).
 *
 * Nest internals used: `ServerRedis` overridden in `listen`, `createRedisClient`,
 * `getRouteFromPattern` and `close`; its protected fields `subClient`, `isManuallyClosed`,
 * `transportId`, `deserializer` and `_status$` (written with `next`, read by Nest's `status`); and
 * `Server#handleEvent(pattern, packet, context)`, which runs the handler's pipes and filters.
 * ioredis: the `pmessageBuffer` event (pattern, channel, message) and `lazyConnect`/`autoResubscribe`.
 *
 * Contract: ./laravel-redis.server.contract.test.ts (its batching and reconnect state:
 * ./laravel-redis.server.test.ts).
 */
import { Logger } from '@nestjs/common';
import { RedisContext, ServerRedis, Transport } from '@nestjs/microservices';
import type { RedisOptions } from 'ioredis';
import { reconnectDelay, type RedisClient } from '../redis/redis-options.js';
import {
  LARAVEL_BROADCAST,
  LaravelDeserializer,
  type IncomingBatch,
  type IncomingBroadcast,
} from '../broadcast/laravel.deserializer.js';
import { subscriptionPattern } from '../broadcast/laravel-prefix.js';

export interface LaravelRedisServerOptions {
  /** Opens the subscriber connection (single Redis, Sentinel or Cluster) with extra ioredis options. */
  connect: (extra: RedisOptions) => RedisClient;
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
 * Nest's Redis transport, fitted to Laravel: one pattern subscription (`<prefix>*`) whose
 * messages all go to the `LARAVEL_BROADCAST` event handler, one `IncomingBatch` per Redis read
 * (see there), raw bytes so invalid UTF-8 is seen,
 * no reply publisher, and a subscriber that never gives up reconnecting. Startup does not wait for
 * Redis: the HTTP side comes up and readiness reports the subscription.
 */
export class LaravelRedisServer extends ServerRedis {
  private readonly log = new Logger('RedisSubscriber');
  private readonly pattern: string;
  private subscribedNow = false;
  /** Messages of the current Redis read, handed to the handler once the read is processed. */
  private pending: IncomingBroadcast[] = [];
  private pendingSince = 0;

  constructor(private readonly settings: LaravelRedisServerOptions) {
    super({ wildcards: true, deserializer: new LaravelDeserializer(settings) });
    this.transportId = Transport.REDIS;
    this.pattern = subscriptionPattern(settings.prefix);
  }

  /** True while the pattern subscription is live on a connected Redis. */
  get subscribed(): boolean {
    return this.subscribedNow;
  }

  override async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      const client = await this.createRedisClient();
      this.subClient = client;
      client.on('error', (err: Error) => this.log.warn(`Redis subscriber error: ${err.message}`));
      client.on('close', () => this.markUnsubscribed());
      client.on('ready', () => void this.subscribe(client));
      client.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) =>
        this.onMessage(channel.toString(), message),
      );
      client.connect().catch((err: Error) => this.log.warn(`Redis not reachable yet (${err.message}); retrying`));
      callback();
    } catch (err) {
      callback(err);
    }
  }

  override createRedisClient(): Promise<RedisClient> {
    return Promise.resolve(
      this.settings.connect({
        lazyConnect: true,
        // We subscribe on every `ready` ourselves, so the state we report is the real one.
        autoResubscribe: false,
        // Nest's own strategy gives up after retryAttempts; a broadcast server never should.
        retryStrategy: (times: number) => (this.isManuallyClosed ? null : reconnectDelay(times)),
      }),
    );
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
    this.markUnsubscribed();
    const client = this.subClient as RedisClient | undefined;
    if (!client) return;
    await client.quit().catch(() => client.disconnect());
  }

  private async subscribe(client: RedisClient): Promise<void> {
    try {
      await client.psubscribe(this.pattern);
      this.subscribedNow = true;
      this._status$.next('connected' as never);
      this.log.log(`Subscribed to Redis pattern "${this.pattern}" for Laravel broadcasts`);
    } catch (err) {
      this.log.error(`Could not subscribe to "${this.pattern}": ${(err as Error).message}`);
    }
  }

  private markUnsubscribed(): void {
    if (!this.subscribedNow) return;
    this.subscribedNow = false;
    this._status$.next('disconnected' as never);
    if (!this.isManuallyClosed) this.log.warn('Redis subscription lost; reconnecting');
  }

  /**
   * ioredis emits every message of one socket read synchronously; they are collected and handed
   * over together in a microtask, which runs as soon as that read is processed. Order is kept:
   * the handler does no I/O, so a batch is delivered before the next read is parsed.
   */
  private onMessage(channel: string, message: Buffer): void {
    if (FOREIGN_CHANNEL.test(channel)) return;
    const incoming = (this.deserializer.deserialize(message, { channel }) as { data: IncomingBroadcast }).data;
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
