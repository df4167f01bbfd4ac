import { afterAll, afterEach, beforeAll, beforeEach } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { BroadcastDto } from '../../src/broadcast/broadcast.dto.js';
import { RelayMetrics } from '../../src/metrics/relay-metrics.js';
import type { Offset } from '../../src/recovery/offsets.js';
import { RecoveryFeed } from '../../src/recovery/recovery-feed.js';
import { RecoveryLog } from '../../src/recovery/recovery-log.js';
import { Sequencer } from '../../src/recovery/sequencer.js';
import { waitUntil } from './ports.js';
import { startRedis, type TestRedis } from './redis-server.js';
import { recoveryConfig } from './recovery.js';

/** One broadcast as a node delivered it to its sockets. */
export interface Delivered {
  offset: Offset | undefined;
  channel: string;
  event: string;
  data: unknown;
  socket: string | null | undefined;
}

/** A Laravel broadcast as it arrives from Redis pub/sub: the text as published, and its Redis channel. */
export interface RawBroadcast {
  broadcast: BroadcastDto;
  raw: string;
  redisChannel: string;
}

/** Laravel's message for `event` on `channel`, as Redis pub/sub hands it to every node. */
export function laravelMessage(channel: string, event: string, data: unknown = {}): RawBroadcast {
  return {
    broadcast: { channel, event, data } as BroadcastDto,
    raw: JSON.stringify({ event, data }),
    redisChannel: `laravel_database_${channel}`,
  };
}

/**
 * The recovery core of one echo-relay node without Nest or socket.io: its own Redis connections,
 * `RecoveryLog`, `Sequencer` and `RecoveryFeed`, the feed delivering into `delivered` (what the
 * node's sockets would be sent).
 */
export class RecoveryNode {
  readonly metrics = new RelayMetrics();
  readonly log: RecoveryLog;
  readonly sequencer: Sequencer;
  readonly feed: RecoveryFeed;
  readonly delivered: Delivered[] = [];

  constructor(redisUrl: string, env: Record<string, string> = {}) {
    const config = recoveryConfig(redisUrl, env);
    this.log = new RecoveryLog(config.redis, config.recovery);
    this.sequencer = new Sequencer(this.log, config.recovery, this.metrics);
    const delivery = {
      deliverLocal: (broadcast: BroadcastDto, _receivedAt?: number, offset?: Offset): number => {
        const { channel, event, data, socket } = broadcast;
        this.delivered.push({ offset, channel, event, data, socket });
        return 1;
      },
    };
    this.feed = new RecoveryFeed(
      config.recovery,
      config.redis,
      this.log,
      this.sequencer,
      delivery as never,
      this.metrics,
    );
  }

  /** Boots as Nest would (feed, then sequencer). */
  start(): void {
    this.feed.onApplicationBootstrap();
    this.sequencer.onApplicationBootstrap();
  }

  /** Graceful stop, in Nest's order: the sequencer hands its lease over, then the connections close. */
  async stop(): Promise<void> {
    await this.sequencer.beforeApplicationShutdown();
    await this.feed.onApplicationShutdown();
    await this.log.onApplicationShutdown();
  }

  /** As if the process died: its timers stop and its connections drop, the lease is not released. */
  async kill(): Promise<void> {
    const timers = this.sequencer as unknown as { timer?: NodeJS.Timeout; rescueTimer?: NodeJS.Timeout };
    clearInterval(timers.timer);
    clearInterval(timers.rescueTimer);
    (this.sequencer as unknown as { stopped: boolean }).stopped = true;
    await this.feed.onApplicationShutdown();
    await this.log.onApplicationShutdown();
  }

  /** Events delivered, in order. */
  events(): string[] {
    return this.delivered.map((d) => d.event);
  }

  /** Broadcasts this node still holds, waiting to see them sequenced (the sequencer's own state). */
  held(): number {
    const held = (this.sequencer as unknown as { held: { key: string }[] }).held;
    return held.filter((h) => h.key !== '').length;
  }

  async rescued(): Promise<number> {
    return (await this.metrics.recoveryRescued.get()).values[0]?.value ?? 0;
  }
}

/**
 * A redis-server of the spec file's own (the recovery keys are fixed, so specs cannot share one),
 * emptied before each test, and the `RecoveryNode`s of the running test, stopped after it.
 */
export function useRecoveryRedis(): {
  /** The server (from the file's `beforeAll` on). */
  redis: () => TestRedis;
  /** A client of it for the spec's own reads and writes. */
  admin: () => Redis;
  /** A node on it, not started; stopped after the test unless `forget` was called. */
  create: (env?: Record<string, string>) => RecoveryNode;
  /** A node started, once its notifications arrive; with `sequencer`, once it holds the lease. */
  node: (env?: Record<string, string>, sequencer?: boolean) => Promise<RecoveryNode>;
  /** The test stopped (or killed) this node itself. */
  forget: (node: RecoveryNode) => void;
} {
  let redis: TestRedis;
  let admin: Redis;
  const nodes: RecoveryNode[] = [];
  beforeAll(async () => {
    Logger.overrideLogger(false);
    redis = await startRedis();
    admin = new Redis({ host: redis.host, port: redis.port });
  });
  afterAll(async () => {
    admin.disconnect();
    await redis.close();
  });
  beforeEach(() => admin.flushall());
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });
  const create = (env: Record<string, string> = {}): RecoveryNode => {
    const created = new RecoveryNode(redis.url, env);
    nodes.push(created);
    return created;
  };
  return {
    redis: () => redis,
    admin: () => admin,
    create,
    node: async (env = {}, sequencer = false) => {
      const started = create(env);
      started.start();
      await waitUntil(() => started.feed.subscribed, 5000, 'the recovery notifications');
      if (sequencer) await waitUntil(() => started.sequencer.isSequencer, 5000, 'the sequencer lease');
      return started;
    },
    forget: (node) => {
      nodes.splice(nodes.indexOf(node), 1);
    },
  };
}
