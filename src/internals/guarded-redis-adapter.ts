/**
 * Written against @socket.io/redis-adapter 8.3.0 with ioredis 6.0.0 clients, and socket.io-adapter
 * 2.5.8 (see WRITTEN_AGAINST in ./written-against.ts).
 *
 * Internals read: the adapter's private message handlers `onmessage(pattern, channel, msg)`,
 * `onrequest(channel, msg)` and `onresponse(channel, msg)` on `RedisAdapter.prototype`, which its
 * constructor binds through `this` (so a subclass's replacements are the ones subscribed), and
 * which commands it calls on its ioredis clients without handling their promises.
 *
 * For the broadcast tap (see `BroadcastTap`): socket.io-adapter 2.5.8's `Adapter#broadcast` calls
 * `this._encode(packet, packetOpts)` and then, synchronously, `this.apply(opts, callback)`, both on
 * the instance, for broadcasts made on this node and for those the Redis adapter received from
 * another node (`onmessage` calls `super.broadcast`); nothing else calls `_encode`.
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

/** The tap of each tapped adapter, and the packet `_encode` saw for the `apply` that follows it. */
const taps = new WeakMap<object, { tap: BroadcastTap; packet?: { type: number; data?: unknown } }>();

// Private (`_encode`) or declared as a field (`apply`) in the typings, so replaced on the prototype
// like the handlers below; both call the inherited versions first.
Object.defineProperty(GuardedRedisAdapter.prototype, '_encode', {
  value: function tappedEncode(this: object, packet: { type: number; data?: unknown }, packetOpts: unknown): unknown {
    const tapped = taps.get(this);
    if (tapped) tapped.packet = packet;
    return (BASE as Encoding)._encode.call(this, packet, packetOpts);
  },
});
Object.defineProperty(GuardedRedisAdapter.prototype, 'apply', {
  value: function tappedApply(this: object, opts: TapOptions, callback: unknown): void {
    (BASE as Encoding).apply.call(this, opts, callback);
    const tapped = taps.get(this);
    const packet = tapped?.packet;
    if (!tapped || !packet) return;
    tapped.packet = undefined;
    // `local` broadcasts are this node's own deliveries (`LocalRoomEmitter`), which reach the
    // tap's connections themselves.
    if (packet.type === EVENT && Array.isArray(packet.data) && !opts.flags?.local) {
      tapped.tap(packet.data as unknown[], opts.rooms, opts.except ?? EMPTY);
    }
  },
});

interface TapOptions {
  rooms: ReadonlySet<string>;
  except?: ReadonlySet<string>;
  flags?: { local?: boolean };
}

interface Encoding {
  _encode(packet: unknown, packetOpts: unknown): unknown;
  apply(opts: unknown, callback: unknown): void;
}

/** socket.io-adapter's in-memory `Adapter`, whose `_encode` the Redis adapter inherits. */
const BASE: unknown = Object.getPrototypeOf(RedisAdapter.prototype);
/** socket.io-parser's EVENT packet type. */
const EVENT = 2;
const EMPTY: ReadonlySet<string> = new Set();

/**
 * Called with the arguments of every event (`[event, ...args]`) the adapter broadcasts to sockets
 * of this node, whether emitted here or received from another node, after the sockets got it,
 * with the rooms it went to and those excluded. Connections that are no socket.io sockets but are
 * listed in the adapter's rooms (`Adapter#addAll`) learn of cross-node emits this way, each once.
 */
export type BroadcastTap = (args: unknown[], rooms: ReadonlySet<string>, except: ReadonlySet<string>) => void;

/** Installs `tap` on the server's default namespace adapter (a `createGuardedAdapter` one). */
export function tapBroadcasts(adapter: unknown, tap: BroadcastTap): void {
  if (!(adapter instanceof GuardedRedisAdapter))
    throw new Error('broadcasts can only be tapped on the guarded adapter');
  taps.set(adapter, { tap });
}

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
