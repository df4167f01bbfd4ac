import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { isCacheChannel } from '../channels/channel-type.js';
import { isPlainObject } from '../common/plain-object.js';
import { ApiConfig } from '../http-api/api.config.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { closeRedisClient, connectRedis } from '../redis/redis-client.js';
import { RedisConfig } from '../redis/redis.config.js';
import { redisNames } from '../redis/redis-namespace.js';
import type { RedisClient } from '../redis/redis-options.js';
import { PusherConfig } from './pusher.config.js';
import { channelEventFrame } from './pusher-protocol.js';

/** How long a subscriber waits for the cached event before it is told `pusher:cache_miss` instead. */
export const CACHE_READ_TIMEOUT_MS = 1000;

/** What a subscriber is sent after `pusher_internal:subscription_succeeded` on a cache channel. */
export type CacheRecall =
  | { result: 'hit'; frame: string }
  /** Nothing cached; `unavailable` when Redis did not answer (the client cannot tell them apart). */
  | { result: 'miss' | 'unavailable' };

/**
 * The last event of each Pusher cache channel (`isCacheChannel`), cluster-wide: one Redis key per
 * channel under the prefix's namespace (`redisNames(prefix).cache`), holding `{event, data}`, with
 * the TTL Pusher gives it (`pusher.cacheTtlSec`). Only events the server side publishes are kept
 * (Laravel through Redis, either HTTP API), never whispers, as on Pusher. Each key lives at most a
 * TTL after its channel's last event, so the count of keys is bounded by the cache channels that
 * had an event in the last TTL; each holds one event, bounded by the broadcast size limits.
 *
 * Nodes without a Pusher endpoint (`pusher.enabled` off, or no app with a secret) have nobody to
 * replay to: they open no connection and write nothing.
 */
@Injectable()
export class ChannelCache implements OnApplicationShutdown {
  private readonly log = new Logger('Pusher');
  private readonly throttled = new ThrottledLog(this.log, 30_000);
  private readonly redis?: RedisClient;
  private readonly ns: string;
  private readonly ttlMs: number;

  constructor(
    redisConfig: RedisConfig,
    config: PusherConfig,
    api: ApiConfig,
    private readonly metrics: RelayMetrics,
  ) {
    this.ns = redisNames(redisConfig.prefix).cache;
    this.ttlMs = config.cacheTtlSec * 1000;
    if (config.enabled && api.clients.some((c) => typeof c.secret === 'string' && c.secret !== '')) {
      this.redis = connectRedis(redisConfig, 'channel-cache', this.log);
    }
  }

  /**
   * Keeps a published event when its channel is a cache channel; costs a prefix test otherwise.
   * Not awaited: delivery never waits for it. While Redis is away the write waits in the client's
   * offline queue, so the cache ends with the last event, not an older one; a write that fails
   * for good is counted and logged (throttled).
   */
  remember(channel: string, event: string, data: unknown): void {
    if (!this.redis || !isCacheChannel(channel)) return;
    this.redis.set(this.ns + channel, JSON.stringify({ event, data: data ?? null }), 'PX', this.ttlMs).then(
      () => this.metrics.pusherCache.inc({ result: 'stored' }),
      (err: Error) => {
        this.metrics.pusherCache.inc({ result: 'store_failed' });
        this.throttled.warn('store', `Could not cache the last event of ${channel}: ${err.message}`);
      },
    );
  }

  /**
   * The channel's cached event as its Pusher frame, the same text a live delivery sends. A Redis
   * that is not connected, or does not answer within `CACHE_READ_TIMEOUT_MS`, makes it
   * `unavailable`: the subscribe goes on, and the client hears `pusher:cache_miss`, which is what
   * pusher-js apps answer by fetching the state themselves.
   */
  async recall(channel: string): Promise<CacheRecall> {
    const recall = await this.read(channel);
    this.metrics.pusherCache.inc({ result: recall.result });
    return recall;
  }

  private async read(channel: string): Promise<CacheRecall> {
    const redis = this.redis;
    if (!redis || redis.status !== 'ready') return { result: 'unavailable' };
    let timer: NodeJS.Timeout | undefined;
    try {
      const text = await Promise.race([
        redis.get(this.ns + channel),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${CACHE_READ_TIMEOUT_MS} ms`)),
            CACHE_READ_TIMEOUT_MS,
          );
        }),
      ]);
      if (text === null) return { result: 'miss' };
      const frame = cachedFrame(channel, text);
      if (frame !== undefined) return { result: 'hit', frame };
      this.throttled.warn('unreadable', `The cached event of ${channel} is unreadable; answering cache_miss`);
      return { result: 'miss' };
    } catch (err) {
      this.throttled.warn('read', `Could not read the cached event of ${channel}: ${(err as Error).message}`);
      return { result: 'unavailable' };
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis) await closeRedisClient(this.redis);
  }
}

/** The frame of a cached `{event, data}`, undefined when the stored text is not one (anyone can write Redis). */
export function cachedFrame(channel: string, text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(value) || typeof value.event !== 'string' || !('data' in value)) return undefined;
  return channelEventFrame(value.event, channel, value.data);
}
