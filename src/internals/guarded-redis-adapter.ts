/**
 * Written against @socket.io/redis-adapter 8.3.0 with ioredis 6.0.0 clients (see WRITTEN_AGAINST
 * in ./written-against.ts).
 *
 * Internals read: the adapter's private message handlers `onmessage(pattern, channel, msg)`,
 * `onrequest(channel, msg)` and `onresponse(channel, msg)` on `RedisAdapter.prototype`, which its
 * constructor binds through `this` (so a subclass's replacements are the ones subscribed), and
 * which commands it calls on its ioredis clients without handling their promises.
 *
 * Contract: ./guarded-redis-adapter.contract.test.ts.
 */
import { Logger } from '@nestjs/common';
import { RedisAdapter, type RedisAdapterOptions } from '@socket.io/redis-adapter';
import { ThrottledLog } from '../logging/throttled-log.js';
import type { RedisClient } from '../redis/redis-options.js';

const log = new ThrottledLog(new Logger('SocketAdapter'));

/** Commands the adapter calls on its publishing client without handling their promises. */
export const ADAPTER_PUB_COMMANDS = ['publish'] as const;
/** Commands the adapter calls on its subscribing client without handling their promises. */
export const ADAPTER_SUB_COMMANDS = ['psubscribe', 'subscribe', 'punsubscribe', 'unsubscribe'] as const;

/** The adapter's handlers of Redis messages, wrapped below. */
export const ADAPTER_HANDLERS = ['onmessage', 'onrequest', 'onresponse'] as const;

/**
 * The socket.io Redis adapter, except that a message it cannot decode is dropped with a warning.
 * The stock adapter decodes whatever arrives on `socket.io#…` and its exception escapes the Redis
 * client's event handler: any process able to PUBLISH on the shared Redis could end every node.
 */
class GuardedRedisAdapter extends RedisAdapter {}

// The handlers are private in the adapter's typings, so they are wrapped on the prototype; the
// adapter binds them through `this`, which finds these.
for (const handler of ADAPTER_HANDLERS) {
  const original = (RedisAdapter.prototype as unknown as Record<string, (...args: unknown[]) => unknown>)[handler];
  Object.defineProperty(GuardedRedisAdapter.prototype, handler, {
    value: function guarded(this: RedisAdapter, ...args: unknown[]): unknown {
      const dropped = (err: unknown): void =>
        log.warn('undecodable', `Ignored a socket.io adapter message on Redis: ${(err as Error).message ?? err}`);
      try {
        const result = original.apply(this, args);
        if (result instanceof Promise) result.catch(dropped);
        return result;
      } catch (err) {
        dropped(err);
        return undefined;
      }
    },
  });
}

/** `createAdapter(pub, sub)` of @socket.io/redis-adapter, with undecodable messages dropped. */
export function createGuardedAdapter(
  pub: RedisClient,
  sub: RedisClient,
  options: Partial<RedisAdapterOptions> = {},
): (nsp: unknown) => RedisAdapter {
  // socket.io calls the factory with `new`, so it must be a function, not an arrow.
  return function adapter(nsp: unknown) {
    return new GuardedRedisAdapter(nsp, pub, sub, options);
  };
}
