/**
 * Written against @nestjs/microservices 12.1.1 and ioredis 6.0.0 (see WRITTEN_AGAINST in
 * ./written-against.ts): LaravelRedisServer's behaviour against a real redis-server, i.e. one
 * batch per Redis read, foreign channels ignored, and the subscription state across a Redis
 * restart and a close. Its use of Nest's internals: ./laravel-redis.server.contract.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger, type LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import { startRedis, type TestRedis } from '../../test/support/redis-server.js';
import { sleep, waitUntil } from '../../test/support/ports.js';
import { LARAVEL_BROADCAST, type IncomingBatch } from '../broadcast/laravel.deserializer.js';
import { singleRedisPlan } from '../broadcast/subscription-plan.js';
import { LaravelRedisServer } from './laravel-redis.server.js';

/** What the server logged, so the spec can check the lines operators see. */
class MemoryLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown): void {
    this.lines.push(String(message));
  }
}

interface Subscriber {
  server: LaravelRedisServer;
  /** The subscriber connection the server opened. */
  client: () => Redis;
  batches: IncomingBatch[];
}

const started: LaravelRedisServer[] = [];

/** A LaravelRedisServer on `redis` with a handler that records every batch it is handed. */
async function subscribe(redis: TestRedis, prefix: string): Promise<Subscriber> {
  let client: Redis | undefined;
  const server = new LaravelRedisServer({
    plan: singleRedisPlan((extra) => (client = new Redis({ host: redis.host, port: redis.port, ...extra }))),
    prefix,
    maxMessageBytes: 1024,
  });
  started.push(server);
  const batches: IncomingBatch[] = [];
  server.addHandler(LARAVEL_BROADCAST, (batch: IncomingBatch) => Promise.resolve(void batches.push(batch)), true);
  let failure: unknown;
  await server.listen((err) => (failure = err));
  expect(failure).toBeUndefined();
  await waitUntil(() => server.subscribed, 5000, 'the pattern subscription');
  return { server, client: () => client!, batches };
}

function publisher(redis: TestRedis): Redis {
  return new Redis({ host: redis.host, port: redis.port });
}

let logs: MemoryLogger;
beforeAll(() => {
  logs = new MemoryLogger();
  Logger.overrideLogger(logs);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.close()));
});

describe('LaravelRedisServer', () => {
  let redis: TestRedis;
  let pub: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    pub = publisher(redis);
  });
  afterAll(async () => {
    pub.disconnect();
    await redis.close();
  });

  it('hands the messages of one Redis read to the handler as one batch, in order', async () => {
    const { batches } = await subscribe(redis, 'laravel_database_');
    await pub
      .multi()
      .publish('laravel_database_orders', '{"event":"a","data":{"n":1}}')
      .publish('other_app_orders', '{"event":"x","data":{}}')
      .publish('laravel_database_shipments', '{"event":"b","data":{"n":2}}')
      .publish('laravel_database_orders', 'not json')
      .exec();
    await waitUntil(() => batches.length > 0, 5000, 'a batch');
    await sleep(50);
    expect(batches).toHaveLength(1);
    expect(typeof batches[0].receivedAt).toBe('number');
    expect(batches[0].messages).toEqual([
      {
        channel: 'orders',
        redisChannel: 'laravel_database_orders',
        payload: { event: 'a', data: { n: 1 } },
        // The text as published: other nodes match the message by it (Sequencer).
        raw: '{"event":"a","data":{"n":1}}',
      },
      {
        channel: 'shipments',
        redisChannel: 'laravel_database_shipments',
        payload: { event: 'b', data: { n: 2 } },
        raw: '{"event":"b","data":{"n":2}}',
      },
      {
        channel: 'orders',
        redisChannel: 'laravel_database_orders',
        invalid: { reason: 'invalid_json', detail: expect.any(String) },
      },
    ]);

    await pub.publish('laravel_database_orders', '{"event":"c","data":{}}');
    await waitUntil(() => batches.length === 2, 5000, 'a second batch');
    expect(batches[1].messages.map((m) => m.payload)).toEqual([{ event: 'c', data: {} }]);
  });

  it("ignores the socket.io adapter's and the recovery notifications' channels, which a bare `*` also matches", async () => {
    const { batches } = await subscribe(redis, '');
    await pub
      .multi()
      .publish('socket.io#/#', 'adapter packet')
      .publish('socket.io-request#/#', 'adapter request')
      .publish('echo-relay#recovery', '[["1-0",{"c":"orders","e":"x","d":{},"s":null}]]')
      .publish('orders', '{"event":"e","data":{}}')
      .exec();
    await waitUntil(() => batches.length > 0, 5000, 'a batch');
    await sleep(50);
    expect(batches.flatMap((batch) => batch.messages.map((m) => m.redisChannel))).toEqual(['orders']);
  });
});

describe('LaravelRedisServer subscription state', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.close());

  it('is subscribed while Redis is up, reconnects after a restart, and stops for good on close', async () => {
    const { server, client, batches } = await subscribe(redis, 'laravel_database_');
    const statuses: string[] = [];
    server.status.subscribe((status) => statuses.push(status));
    expect(server.subscribed).toBe(true);

    await redis.stop();
    await waitUntil(() => !server.subscribed, 5000, 'the subscription to be lost');
    expect(logs.lines).toContain('Redis subscription lost; reconnecting');

    await redis.start();
    await waitUntil(() => server.subscribed, 10_000, 'the subscription after the restart');
    const pub = publisher(redis);
    await pub.publish('laravel_database_orders', '{"event":"after","data":{}}');
    await waitUntil(() => batches.length > 0, 5000, 'a message after the restart');
    expect(batches[0].messages[0].payload).toEqual({ event: 'after', data: {} });
    expect(statuses).toEqual(['connected', 'disconnected', 'connected']);

    const lost = logs.lines.filter((line) => line.includes('subscription lost')).length;
    await server.close();
    expect(server.subscribed).toBe(false);
    await sleep(300);
    expect(client().status).toBe('end');
    expect(server.subscribed).toBe(false);
    expect(logs.lines.filter((line) => line.includes('subscription lost'))).toHaveLength(lost);
    pub.disconnect();
  });
});
