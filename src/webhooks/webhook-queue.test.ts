import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PUSHER_CLIENTS_ENV } from '../../test/support/pusher-client.js';
import { startRedis, type TestRedis } from '../../test/support/redis-server.js';
import { ReplyLosingProxy } from '../../test/support/reply-losing-proxy.js';
import { loadConfig } from '../config/load-config.js';
import { redisNames } from '../redis/redis-namespace.js';
import type { QueuedEvent, WebhookTarget } from './webhook-targets.js';
import { WebhookQueue } from './webhook-queue.js';

const NS = redisNames('').presence;
const OUTBOX = `${NS}wh:outbox`;
const TARGET: WebhookTarget = {
  id: 'spec',
  url: 'http://127.0.0.1:9/hooks',
  key: 'k',
  secret: 's',
  eventTypes: new Set(['channel_occupied', 'channel_vacated']),
  startsWith: '',
  endsWith: '',
  headers: {},
};
const QUEUE = `${NS}wh:q:${TARGET.id}`;

const event = (n: number): string =>
  JSON.stringify({ name: 'channel_occupied', channel: `c${n}`, at: n } satisfies QueuedEvent);

// Redis runs each call, then the proxy loses its reply and ioredis sends the call again.
describe('WebhookQueue, when a reply is lost and the call is sent again', () => {
  let redis: TestRedis;
  let proxy: ReplyLosingProxy;
  let admin: Redis;
  let queue: WebhookQueue;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    redis = await startRedis();
    proxy = await ReplyLosingProxy.start(redis.port);
    admin = new Redis({ host: redis.host, port: redis.port });
    const env = { REDIS_URL: proxy.url, ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV, ECHO_RELAY_WEBHOOK_URL: TARGET.url };
    const { config } = loadConfig({ env, cwd: mkdtempSync(join(tmpdir(), 'echo-relay-webhooks-')) });
    queue = new WebhookQueue(config.redis, config.webhooks);
  });

  beforeEach(async () => {
    await admin.flushall();
  });

  afterAll(async () => {
    await queue?.onApplicationShutdown();
    admin?.disconnect();
    await proxy?.close();
    await redis?.close();
  });

  it('moves a batch from the outbox to the queue once, and leaves what came after it in the outbox', async () => {
    await admin.rpush(OUTBOX, event(1), event(2), event(3));
    // The batch is read, then its move runs twice (the script's first run: sent with its text).
    proxy.loseReplyTo('ltrim');
    expect(await queue.fanOut([TARGET], 2)).toEqual({ queued: [2], unreadable: 0 });
    expect(proxy.lost).toBe(1);
    expect(await admin.lrange(QUEUE, 0, -1)).toEqual([event(1), event(2)]);
    expect(await admin.lrange(OUTBOX, 0, -1)).toEqual([event(3)]);
  });

  it('drops a sent batch of a queue once', async () => {
    expect(await queue.lead('node-a', 10_000)).toBe(true);
    await admin.rpush(QUEUE, event(1), event(2), event(3), event(4));
    // Dropping none loads the script, so the lost reply is the drop's own, not a NOSCRIPT.
    expect(await queue.drop('node-a', TARGET, 0)).toBe(true);
    proxy.loseReplyTo('evalsha');
    expect(await queue.drop('node-a', TARGET, 2)).toBe(true);
    expect(proxy.lost).toBe(2);
    expect(await admin.lrange(QUEUE, 0, -1)).toEqual([event(3), event(4)]);
  });
});
