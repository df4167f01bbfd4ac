/**
 * Contract of ./ioredis-commands.ts with ioredis 6.0.0 (built/utils/Commander.js): commands are
 * functions inherited from the prototype that return promises, on `Redis` and `Cluster` alike;
 * `defineCommand` adds a method taking the keys first; and the Buffer events the socket.io adapter
 * and the Laravel subscriber listen to carry what they expect. Against a redis-server of its own.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Logger } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import { startRedis, type TestRedis } from '../../test/support/redis-server.js';
import type { RedisClient } from '../redis/redis-options.js';
import { ADAPTER_PUB_COMMANDS, ADAPTER_SUB_COMMANDS } from './guarded-redis-adapter.js';
import { defineScript, handleFireAndForget } from './ioredis-commands.js';
import { versionMismatch } from './written-against.js';

const PATCHED = [...ADAPTER_PUB_COMMANDS, ...ADAPTER_SUB_COMMANDS];

type Methods = Record<string, (...args: unknown[]) => unknown>;

let redis: TestRedis;
const opened: RedisClient[] = [];

/** A client that never connects and refuses to queue: every command rejects at once. */
function offline(kind: 'Redis' | 'Cluster'): RedisClient {
  const client =
    kind === 'Redis'
      ? new Redis({ lazyConnect: true, enableOfflineQueue: false })
      : new Cluster([{ host: '127.0.0.1', port: 1 }], {
          lazyConnect: true,
          enableOfflineQueue: false,
          clusterRetryStrategy: () => null,
        });
  // A Cluster command starts connecting even so; its failure is expected here.
  client.on('error', () => undefined);
  opened.push(client);
  return client;
}

function connected(): RedisClient {
  const client = new Redis({ host: redis.host, port: redis.port, lazyConnect: true });
  opened.push(client);
  return client;
}

function debugLog(): { log: Logger; debug: jest.Mock<(message: string) => void> } {
  const debug = jest.fn<(message: string) => void>();
  return { log: { debug } as unknown as Logger, debug };
}

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  for (const client of opened) client.disconnect();
  await redis.close();
});

it('ioredis is the version the patches were written against', () => {
  expect(versionMismatch('ioredis')).toBeUndefined();
});

describe.each(['Redis', 'Cluster'] as const)('ioredis %s', (kind) => {
  const prototype = (kind === 'Redis' ? Redis.prototype : Cluster.prototype) as unknown as Methods;

  for (const command of PATCHED) {
    it(`ioredis: ${kind}.prototype.${command} is an inherited function, not an own property of a client`, () => {
      expect(typeof prototype[command]).toBe('function');
      expect(Object.hasOwn(offline(kind), command)).toBe(false);
    });

    it(`ioredis: ${kind}#${command} returns a promise, whose rejection handleFireAndForget logs at debug`, async () => {
      const { log, debug } = debugLog();
      const client = handleFireAndForget(offline(kind), [command], log);
      expect(Object.hasOwn(client, command)).toBe(true);
      const result = (client as unknown as Methods)[command]('echo-relay:contract');
      expect(result).toBeInstanceOf(Promise);
      await expect(result).rejects.toThrow();
      expect(debug).toHaveBeenCalledWith(expect.stringMatching(new RegExp(`^Redis ${command} failed: `)));
    });
  }

  it(`ioredis: ${kind}#defineCommand adds a method of that name returning a promise`, async () => {
    const client = offline(kind);
    expect(typeof client.defineCommand).toBe('function');
    const run = defineScript(client, 'contractScript', 'return 1', 'echo-relay:{contract}:key');
    expect(typeof (client as unknown as Methods).contractScript).toBe('function');
    const result = run('arg');
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toThrow();
  });
});

describe('ioredis on a real Redis', () => {
  it('ioredis: a defineCommand script gets the key first, then the arguments', async () => {
    const client = connected();
    const run = defineScript(client, 'contractEcho', 'return {KEYS[1], ARGV[1], ARGV[2]}', 'echo-relay:{contract}:key');
    expect(await run('a', 2)).toEqual(['echo-relay:{contract}:key', 'a', '2']);
  });

  it('ioredis: pmessageBuffer carries (pattern, channel Buffer, message Buffer), messageBuffer (channel Buffer, message Buffer)', async () => {
    const subscriber = connected();
    const publisher = connected();
    const pmessage = new Promise<unknown[]>((resolve) =>
      subscriber.once('pmessageBuffer', (...args: unknown[]) => resolve(args)),
    );
    const message = new Promise<unknown[]>((resolve) =>
      subscriber.once('messageBuffer', (...args: unknown[]) => resolve(args)),
    );
    await subscriber.psubscribe('contract.p*');
    await subscriber.subscribe('contract.plain');
    await publisher.publish('contract.pattern', 'by pattern');
    await publisher.publish('contract.plain', 'by name');
    // The pattern comes as a string; the channel and the message as Buffers.
    expect(await pmessage).toEqual(['contract.p*', Buffer.from('contract.pattern'), Buffer.from('by pattern')]);
    expect(await message).toEqual([Buffer.from('contract.plain'), Buffer.from('by name')]);
  });
});
