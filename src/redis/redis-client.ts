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

/**
 * For a library that calls these commands without handling their promises (the socket.io Redis
 * adapter publishes and subscribes fire-and-forget): a rejection while Redis is away would be an
 * unhandled rejection, which ends the process. Here it is logged at debug and dropped instead.
 */
export function handleFireAndForget(client: RedisClient, commands: readonly string[], log: Logger): RedisClient {
  const methods = client as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const command of commands) {
    const original = methods[command].bind(client);
    methods[command] = (...args: unknown[]) => {
      const result = original(...args);
      if (result instanceof Promise) {
        result.catch((err: Error) => log.debug(`Redis ${command} failed: ${err.message}`));
      }
      return result;
    };
  }
  return client;
}

/** QUIT, or drop the connection when Redis is not there to answer. */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') return client.disconnect();
  await client.quit().catch(() => client.disconnect());
}
