/**
 * Contract of ./guarded-redis-adapter.ts with @socket.io/redis-adapter 8.3.0 (dist/index.js): the
 * private handlers it wraps, how the adapter reaches them, and which commands it sends on its
 * ioredis clients without handling their promises. Driven through a real socket.io server over
 * stand-in clients that record what the adapter calls (no Redis needed).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { RedisAdapter } from '@socket.io/redis-adapter';
import { EventEmitter } from 'node:events';
import { Server } from 'socket.io';
import { ThrottledLog } from '../logging/throttled-log.js';
import type { RedisClient } from '../redis/redis-options.js';
import {
  ADAPTER_HANDLERS,
  ADAPTER_PUB_COMMANDS,
  ADAPTER_SUB_COMMANDS,
  createGuardedAdapter,
  tapBroadcasts,
} from './guarded-redis-adapter.js';
import { versionMismatch } from './written-against.js';

/** The ioredis commands a Redis adapter could call; each call is recorded, and resolves. */
const COMMANDS = ['publish', 'psubscribe', 'subscribe', 'punsubscribe', 'unsubscribe'] as const;

class RecordingClient extends EventEmitter {
  readonly calls: string[] = [];
  constructor() {
    super();
    for (const command of COMMANDS) {
      Object.defineProperty(this, command, {
        value: (): Promise<void> => {
          this.calls.push(command);
          return Promise.resolve();
        },
      });
    }
  }
}

type Handlers = Record<(typeof ADAPTER_HANDLERS)[number], (...args: unknown[]) => unknown>;

/** A message no msgpack decoder accepts (0xc1 is never used). */
const UNDECODABLE = Buffer.from([0xc1, 0xc1]);

let server: Server;
let pub: RecordingClient;
let sub: RecordingClient;
const warnings = jest.spyOn(ThrottledLog.prototype, 'warn');

beforeAll(() => {
  // Keeps the guard's warnings out of the test output; they are counted through `warnings`.
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  pub = new RecordingClient();
  sub = new RecordingClient();
  server = new Server();
  server.adapter(createGuardedAdapter(pub as unknown as RedisClient, sub as unknown as RedisClient));
});

afterEach(() => {
  warnings.mockClear();
});

afterAll(async () => {
  // The server never listened: only its adapter has something to close.
  await server.of('/').adapter.close();
  jest.restoreAllMocks();
});

it('@socket.io/redis-adapter is the version the wrapper was written against', () => {
  expect(versionMismatch('@socket.io/redis-adapter')).toBeUndefined();
});

describe('RedisAdapter.prototype', () => {
  for (const [handler, arity] of [
    ['onmessage', 3], // (pattern, channel, msg)
    ['onrequest', 2], // (channel, msg)
    ['onresponse', 2], // (channel, msg)
  ] as const) {
    it(`@socket.io/redis-adapter: RedisAdapter.prototype.${handler} is a function of ${arity} arguments`, () => {
      const method = (RedisAdapter.prototype as unknown as Handlers)[handler];
      expect(typeof method).toBe('function');
      expect(method.length).toBe(arity);
    });
  }

  it('an adapter from createGuardedAdapter is a RedisAdapter whose three handlers are the wrappers', () => {
    const adapter = server.of('/').adapter as unknown as Handlers;
    expect(adapter).toBeInstanceOf(RedisAdapter);
    expect([...ADAPTER_HANDLERS].sort()).toEqual(['onmessage', 'onrequest', 'onresponse']);
    for (const handler of ADAPTER_HANDLERS) {
      expect(adapter[handler]).not.toBe((RedisAdapter.prototype as unknown as Handlers)[handler]);
    }
  });
});

describe('an adapter on ioredis clients (no pSubscribe: the ioredis path)', () => {
  it('@socket.io/redis-adapter: subscribes with psubscribe and subscribe, listening to pmessageBuffer and messageBuffer', () => {
    expect(sub.calls).toEqual(['psubscribe', 'subscribe']);
    expect(sub.listenerCount('pmessageBuffer')).toBe(1);
    expect(sub.listenerCount('messageBuffer')).toBe(1);
  });

  it('@socket.io/redis-adapter: a broadcast is a publish, whose promise it drops', () => {
    pub.calls.length = 0;
    server.to('orders').emit('order.shipped', 'orders', {});
    expect(pub.calls).toEqual(['publish']);
  });

  it('every command it calls fire-and-forget is in ADAPTER_PUB_COMMANDS / ADAPTER_SUB_COMMANDS', async () => {
    const otherPub = new RecordingClient();
    const otherSub = new RecordingClient();
    const other = new Server();
    other.adapter(createGuardedAdapter(otherPub as unknown as RedisClient, otherSub as unknown as RedisClient));
    other.to('orders').emit('order.shipped', 'orders', {});
    await other.of('/').adapter.close(); // punsubscribe, unsubscribe
    expect([...new Set(otherPub.calls)].sort()).toEqual([...ADAPTER_PUB_COMMANDS].sort());
    expect([...new Set(otherSub.calls)].sort()).toEqual([...ADAPTER_SUB_COMMANDS].sort());
  });
});

describe('undecodable messages', () => {
  it('@socket.io/redis-adapter: the stock onmessage throws out of the Redis client event for an undecodable message', async () => {
    const stockSub = new RecordingClient();
    const stock = new RedisAdapter(server.of('/'), new RecordingClient(), stockSub);
    try {
      expect(() =>
        stockSub.emit('pmessageBuffer', Buffer.from('socket.io#/#*'), Buffer.from('socket.io#/#'), UNDECODABLE),
      ).toThrow();
    } finally {
      await stock.close();
    }
  });

  it('@socket.io/redis-adapter: the stock onrequest rejects for a malformed request', async () => {
    const stock = new RedisAdapter(server.of('/'), new RecordingClient(), new RecordingClient());
    try {
      const request = Buffer.from(JSON.stringify({ type: 2, opts: { rooms: 5 } })); // REMOTE_JOIN, rooms not iterable
      const handlers = stock as unknown as Handlers;
      await expect(handlers.onrequest('socket.io-request#/#', request)).rejects.toThrow(TypeError);
    } finally {
      await stock.close();
    }
  });

  it('the guarded adapter (reached through the listeners the constructor bound) drops both with a warning', async () => {
    expect(() =>
      sub.emit('pmessageBuffer', Buffer.from('socket.io#/#*'), Buffer.from('socket.io#/#'), UNDECODABLE),
    ).not.toThrow();
    expect(warnings).toHaveBeenCalledTimes(1);
    sub.emit('messageBuffer', Buffer.from('socket.io-request#/#'), Buffer.from('{"type":2,"opts":{"rooms":5}}'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings).toHaveBeenCalledTimes(2);
    expect(warnings).toHaveBeenLastCalledWith(
      'undecodable',
      expect.stringContaining('Ignored a socket.io adapter message'),
    );
  });
});

describe('the broadcast tap', () => {
  type Call = [unknown[], string[], string[]];
  let tapped: Server;
  let tappedSub: RecordingClient;
  const calls: Call[] = [];

  beforeAll(() => {
    tappedSub = new RecordingClient();
    tapped = new Server();
    tapped.adapter(
      createGuardedAdapter(new RecordingClient() as unknown as RedisClient, tappedSub as unknown as RedisClient),
    );
    tapBroadcasts(tapped.of('/').adapter, (args, rooms, except) => calls.push([args, [...rooms], [...except]]));
  });

  afterEach(() => {
    calls.length = 0;
  });

  afterAll(async () => {
    await tapped.of('/').adapter.close();
  });

  it('socket.io-adapter is the version the tap was written against', () => {
    expect(versionMismatch('socket.io-adapter')).toBeUndefined();
  });

  it('socket.io-adapter: Adapter.prototype has _encode(packet, packetOpts) and apply(opts, callback)', () => {
    const base = Object.getPrototypeOf(RedisAdapter.prototype) as Record<string, unknown>;
    expect((base._encode as (...args: unknown[]) => unknown).length).toBe(2);
    expect((base.apply as (...args: unknown[]) => unknown).length).toBe(2);
  });

  it('sees an emit made on this node once, with its rooms and exclusions', () => {
    tapped.to('orders').except('123.456').emit('order.shipped', 'orders', { id: 1 });
    expect(calls).toEqual([[['order.shipped', 'orders', { id: 1 }], ['orders'], ['123.456']]]);
  });

  it("sees an emit received from another node through the Redis adapter's onmessage", () => {
    const adapter = tapped.of('/').adapter as unknown as {
      parser: { encode(value: unknown): Buffer };
      addAll(id: string, rooms: Set<string>): void;
    };
    // The room must be known here, or the adapter ignores the message: a Pusher connection's entry.
    adapter.addAll('123.456', new Set(['orders']));
    const packet = { type: 2, nsp: '/', data: ['order.paid', 'orders', { id: 2 }] };
    const message = adapter.parser.encode(['another-node', packet, { rooms: ['orders'], except: [], flags: {} }]);
    tappedSub.emit('pmessageBuffer', Buffer.from('socket.io#/#*'), Buffer.from('socket.io#/#orders#'), message);
    expect(calls).toEqual([[['order.paid', 'orders', { id: 2 }], ['orders'], []]]);
  });

  it('does not see local emits (their deliveries reach Pusher connections directly) nor other adapter work', async () => {
    tapped.local.to('orders').emit('order.local', 'orders', {});
    await tapped.local.in('orders').fetchSockets();
    tapped.local.in('orders').socketsJoin('elsewhere');
    expect(calls).toEqual([]);
  });

  it('refuses an adapter that is not the guarded one', () => {
    expect(() => tapBroadcasts(new Server().of('/').adapter, () => undefined)).toThrow('guarded adapter');
  });
});
