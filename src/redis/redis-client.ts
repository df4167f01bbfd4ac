import type { Logger } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/relay-config.js';
import { redisOptions, reconnectDelay } from './redis-options.js';

/**
 * A command connection to the configured Redis that never gives up reconnecting and never lets an
 * 'error' event go unhandled (that would crash the process). `overrides` win over the config.
 */
export function createRedisClient(config: RedisConfig, name: string, log: Logger, overrides: RedisOptions = {}): Redis {
  const client = new Redis({
    ...redisOptions(config),
    connectionName: name,
    retryStrategy: reconnectDelay,
    ...overrides,
  });
  client.on('error', (err: Error) => log.warn(`Redis (${name}) error: ${err.message}`));
  return client;
}

/**
 * For a library that calls these commands without handling their promises (the socket.io Redis
 * adapter publishes and subscribes fire-and-forget): a rejection while Redis is away would be an
 * unhandled rejection, which ends the process. Here it is logged at debug and dropped instead.
 */
export function handleFireAndForget(client: Redis, commands: readonly string[], log: Logger): Redis {
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
export async function closeRedisClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') return client.disconnect();
  await client.quit().catch(() => client.disconnect());
}
