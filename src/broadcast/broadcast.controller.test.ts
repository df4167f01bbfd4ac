import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestMicroservice, LoggerService } from '@nestjs/common';
import { RedisContext } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type TestRedis } from '../../test/support/redis-server.js';
import { waitUntil } from '../../test/support/ports.js';
import { loadConfig } from '../config/load-config.js';
import { LogConfig } from '../logging/log.config.js';
import { RedisConfig } from '../redis/redis.config.js';
import { BroadcastDelivery } from '../gateway/broadcast-delivery.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { BroadcastController } from './broadcast.controller.js';
import type { BroadcastDto } from './broadcast.dto.js';
import { BroadcastDrops } from './broadcast-drops.js';
import { LARAVEL_BROADCAST, type IncomingBatch } from './laravel.deserializer.js';
import { LaravelRedisServer } from '../internals/laravel-redis.server.js';
import { PrefixAdvisor } from './prefix-advisor.js';
import { singleRedisPlan } from './subscription-plan.js';
import { RecoveryConfig } from '../recovery/recovery.config.js';
import { recoveryKeys, RecoveryLog, type HistoryEntry } from '../recovery/recovery-log.js';
import { Sequencer } from '../recovery/sequencer.js';

const PREFIX = 'laravel_database_';
const HISTORY_KEY = recoveryKeys(PREFIX).history;

/** Stands in for the socket.io side: records what it is asked to deliver, and fails on request. */
class RecordingDelivery {
  readonly delivered: { channel: string; event: string; data: unknown; receivedAt?: number }[] = [];
  readonly failOn = new Set<string>();

  deliverLocal({ channel, event, data }: BroadcastDto, receivedAt?: number): number {
    if (this.failOn.has(channel)) throw new Error('emit failed');
    this.delivered.push({ channel, event, data, receivedAt });
    return 1;
  }

  deliverCluster(): number {
    throw new Error('Redis broadcasts are delivered locally');
  }
}

class MemoryLogger implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

describe('BroadcastController on Nest microservice dispatch', () => {
  let redis: TestRedis;
  let pub: Redis;
  let app: INestMicroservice;
  let server: LaravelRedisServer;
  let delivery: RecordingDelivery;
  let metrics: RelayMetrics;
  let logs: MemoryLogger;

  beforeAll(async () => {
    redis = await startRedis();
    pub = new Redis({ host: redis.host, port: redis.port });
  });
  afterAll(async () => {
    pub.disconnect();
    await redis.close();
  });

  /** The controller with the real recovery providers, recovery on or off, listening on `redis`. */
  async function startApp(recoveryEnabled: boolean): Promise<void> {
    delivery = new RecordingDelivery();
    logs = new MemoryLogger();
    const { config } = loadConfig({
      env: { REDIS_URL: redis.url, REDIS_PREFIX: PREFIX, ECHO_RELAY_RECOVERY: String(recoveryEnabled) },
      cwd: mkdtempSync(join(tmpdir(), 'echo-relay-broadcast-')),
    });
    const moduleRef = await Test.createTestingModule({
      controllers: [BroadcastController],
      providers: [
        BroadcastDrops,
        PrefixAdvisor,
        RelayMetrics,
        RecoveryLog,
        Sequencer,
        { provide: RecoveryConfig, useValue: config.recovery },
        { provide: BroadcastDelivery, useValue: delivery },
        { provide: LogConfig, useValue: Object.assign(new LogConfig(), { level: 'info', devMode: false }) },
        { provide: RedisConfig, useValue: config.redis },
      ],
    }).compile();
    server = new LaravelRedisServer({
      plan: singleRedisPlan((extra) => new Redis({ host: redis.host, port: redis.port, ...extra })),
      prefix: PREFIX,
      maxMessageBytes: 1024,
    });
    app = moduleRef.createNestMicroservice({ strategy: server });
    app.useLogger(logs);
    await app.listen();
    metrics = app.get(RelayMetrics);
    await waitUntil(() => server.subscribed, 5000, 'the pattern subscription');
  }

  afterEach(() => app.close());

  async function counts(): Promise<{ received: number; dropped: Record<string, number> }> {
    const received = (await metrics.messagesReceived.get()).values.find((v) => v.labels.source === 'redis');
    const dropped = (await metrics.messagesDropped.get()).values.map((v) => [v.labels.reason, v.value]);
    return { received: received?.value ?? 0, dropped: Object.fromEntries(dropped) as Record<string, number> };
  }

  describe('with recovery off', () => {
    beforeEach(() => startApp(false));

    it('delivers the valid messages of a batch in order and counts and logs each drop by reason', async () => {
      await pub
        .multi()
        .publish(`${PREFIX}orders`, '{"event":"a","data":{"n":1}}')
        .publish(`${PREFIX}orders`, 'not json')
        .publish(`${PREFIX}shipments`, '{"event":"b","data":{"n":2}}')
        .publish(`${PREFIX}orders`, '{"event":"connect","data":{}}')
        .publish(`${PREFIX}orders`, '{"event":')
        .publish(`${PREFIX}orders`, '{"event":"c","data":[]}')
        .exec();
      await waitUntil(async () => (await counts()).received === 6, 5000, 'six messages received');

      expect(delivery.delivered.map(({ channel, event, data }) => [channel, event, data])).toEqual([
        ['orders', 'a', { n: 1 }],
        ['shipments', 'b', { n: 2 }],
        ['orders', 'c', []],
      ]);
      const [{ receivedAt }] = delivery.delivered;
      expect(typeof receivedAt).toBe('number');
      expect(delivery.delivered.every((d) => d.receivedAt === receivedAt)).toBe(true);
      expect(await counts()).toEqual({ received: 6, dropped: { invalid_json: 2, invalid_event: 1 } });
      // Throttled per reason: the second invalid_json is counted, not logged.
      expect(logs.warnings).toEqual([
        expect.stringMatching(/^Dropped message on Redis channel "laravel_database_orders": invalid_json \(.+\)$/),
        expect.stringMatching(/^Dropped message on Redis channel "laravel_database_orders": invalid_event \(.+\)$/),
      ]);
    });

    it('costs only the failing message when a delivery throws', async () => {
      delivery.failOn.add('boom');
      await pub
        .multi()
        .publish(`${PREFIX}orders`, '{"event":"a","data":{}}')
        .publish(`${PREFIX}boom`, '{"event":"b","data":{}}')
        .publish(`${PREFIX}orders`, '{"event":"c","data":{}}')
        .exec();
      await waitUntil(async () => (await counts()).received === 3, 5000, 'three messages received');

      expect(delivery.delivered.map(({ event }) => event)).toEqual(['a', 'c']);
      expect(await counts()).toEqual({ received: 3, dropped: { handler_error: 1 } });
      expect(logs.warnings).toEqual([
        'Dropped message on Redis channel "laravel_database_boom": handler_error (emit failed)',
      ]);
    });

    it('counts every message of a batch that fails before its handler as a handler_error drop', async () => {
      // Validation itself failing (not refusing: throwing) is the kind of fault the filter is for.
      const exploding = {
        get event(): string {
          throw new Error('payload exploded');
        },
      };
      const batch: IncomingBatch = {
        receivedAt: performance.now(),
        messages: [
          { channel: 'orders', redisChannel: `${PREFIX}orders`, payload: { event: 'a', data: {} } },
          { channel: 'trap', redisChannel: `${PREFIX}trap`, payload: exploding },
        ],
      };
      // The call LaravelRedisServer makes for every Redis read.
      await server.handleEvent(
        LARAVEL_BROADCAST,
        { pattern: LARAVEL_BROADCAST, data: batch },
        new RedisContext([`${PREFIX}*`, undefined]),
      );
      await waitUntil(async () => (await counts()).received === 2, 5000, 'two messages received');

      expect(delivery.delivered).toEqual([]);
      expect(await counts()).toEqual({ received: 2, dropped: { handler_error: 2 } });
      expect(logs.warnings).toEqual([
        'Dropped message on Redis channel "laravel_database_orders": handler_error (payload exploded)',
      ]);
    });
  });

  describe('with recovery on', () => {
    beforeEach(async () => {
      await pub.del(HISTORY_KEY);
      await startApp(true);
      // No RecoveryFeed in this module: the sequencer appends only while told its notifications arrive.
      app.get(Sequencer).setFeedLive(true);
      await waitUntil(() => app.get(Sequencer).isSequencer, 5000, 'the sequencer lease');
    });

    async function history(): Promise<HistoryEntry[]> {
      const rows = (await pub.xrange(HISTORY_KEY, '-', '+')) as [string, string[]][];
      return rows.map(([, fields]) => JSON.parse(fields[3]) as HistoryEntry);
    }

    it('hands the accepted messages to the sequencer, which appends them in order, and delivers none itself', async () => {
      await pub
        .multi()
        .publish(`${PREFIX}orders`, '{"event":"a","data":{"n":1}}')
        .publish(`${PREFIX}orders`, 'not json')
        .publish(`${PREFIX}shipments`, '{"event":"b","data":{"n":2},"socket":"abc.1"}')
        .publish(`${PREFIX}orders`, '{"event":"a","data":{"n":1}}')
        .exec();
      await waitUntil(async () => (await pub.xlen(HISTORY_KEY)) === 3, 5000, 'three entries in the history');

      // Delivered from the history's notification (RecoveryFeed, not in this module), never directly.
      expect(delivery.delivered).toEqual([]);
      expect((await history()).map(({ c, e, d, s }) => [c, e, d, s])).toEqual([
        ['orders', 'a', { n: 1 }, null],
        ['shipments', 'b', { n: 2 }, 'abc.1'],
        ['orders', 'a', { n: 1 }, null],
      ]);
      // Identical messages share the key the other nodes match them by; each is appended.
      const keys = (await history()).map((entry) => entry.k);
      expect(keys[0]).toEqual(expect.any(String));
      expect(keys[2]).toBe(keys[0]);
      expect(keys[1]).not.toBe(keys[0]);
      expect(await counts()).toEqual({ received: 4, dropped: { invalid_json: 1 } });
    });
  });
});
