import type { Logger } from '@nestjs/common';
import type { RedisOptions } from 'ioredis';
import type { RedisConfig } from './redis.config.js';
import { createRedisClient, reconnectDelay, type RedisClient } from './redis-options.js';

/**
 * A command connection for the configured topology (one Redis, Sentinel or Cluster) that never
 * gives up reconnecting and never lets an 'error' event go unhandled (that would crash the
 * process). `extra` wins over the config.
 */
export function connectRedis(config: RedisConfig, role: string, log: Logger, extra: RedisOptions = {}): RedisClient {
  const client = createRedisClient(config, role, { retryStrategy: reconnectDelay, ...extra });
  client.on('error', (err: Error) => log.warn(`Redis (${role}) error: ${err.message}`));
  return client;
}

/** QUIT, or drop the connection when Redis is not there to answer. */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') return client.disconnect();
  await client.quit().catch(() => client.disconnect());
}
