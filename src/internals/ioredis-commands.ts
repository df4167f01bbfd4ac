/**
 * Written against ioredis 6.0.0 (see WRITTEN_AGAINST in ./written-against.ts).
 *
 * What echo-relay does to ioredis clients beyond their typings, for `Redis` and `Cluster` alike:
 * - replaces command methods on one client with own properties (`client.publish = …`), relying on
 *   commands being plain functions inherited from `Commander.prototype` that return a promise;
 * - calls the method `defineCommand(name, …)` adds to the client (`client[name]`), which the
 *   typings do not know, with the keys first and the promise of the script's reply returned.
 *
 * Contract: ./ioredis-commands.contract.test.ts.
 */
import type { Logger } from '@nestjs/common';
import type { RedisClient } from '../redis/redis-options.js';

type Command = (...args: unknown[]) => unknown;

/** Runs a script defined with `defineScript`: its arguments after the key. */
export type ScriptRunner = (...args: (string | number)[]) => Promise<unknown>;

/**
 * For a library that calls these commands without handling their promises (the socket.io Redis
 * adapter publishes and subscribes fire-and-forget): a rejection while Redis is away would be an
 * unhandled rejection, which ends the process. Here it is logged at debug and dropped instead.
 */
export function handleFireAndForget(client: RedisClient, commands: readonly string[], log: Logger): RedisClient {
  const methods = client as unknown as Record<string, Command>;
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

/**
 * Defines the Lua script `lua` on the client as `name` (EVALSHA, falling back to EVAL once per
 * connection) and returns a runner that passes `key` as its one key: on a Cluster, the key routes
 * the call to the node of its slot.
 */
export function defineScript(client: RedisClient, name: string, lua: string, key: string): ScriptRunner {
  client.defineCommand(name, { numberOfKeys: 1, lua });
  const command = (client as unknown as Record<string, ScriptRunner>)[name].bind(client);
  return (...args) => command(key, ...args);
}
