import type { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { RedisConfig } from '../config/relay-config.js';
import { redisOptions, reconnectDelay } from './redis-options.js';

/**
 * A command connection to the configured Redis that never gives up reconnecting and never lets an
 * 'error' event go unhandled (that would crash the process).
 */
export function createRedisClient(config: RedisConfig, name: string, log: Logger): Redis {
  const client = new Redis({ ...redisOptions(config), connectionName: name, retryStrategy: reconnectDelay });
  client.on('error', (err: Error) => log.warn(`Redis (${name}) error: ${err.message}`));
  return client;
}

/** QUIT, or drop the connection when Redis is not there to answer. */
export async function closeRedisClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  await client.quit().catch(() => client.disconnect());
}
