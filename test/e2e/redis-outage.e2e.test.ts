import assert from 'node:assert/strict';
import { afterAll, describe, it } from '@jest/globals';
import { collect, connected, createEcho } from '../support/echo-client.js';
import { LaravelPublisher } from '../support/laravel-publisher.js';
import { waitUntil } from '../support/ports.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startRelay, type TestRelay } from '../support/relay.js';

describe('Redis outages', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  async function setUp(startRedisFirst: boolean): Promise<{ redis: TestRedis; relay: TestRelay }> {
    const redis = await startRedis();
    cleanup.push(() => redis.close());
    if (!startRedisFirst) await redis.stop(true);
    const relay = await startRelay({ env: { REDIS_URL: redis.url, REDIS_PREFIX: 'laravel_database_' } });
    cleanup.push(() => relay.stop());
    return { redis, relay };
  }

  it('starts without Redis, reports 503 on /ready, and subscribes once Redis appears', async () => {
    const { redis, relay } = await setUp(false);
    assert.equal((await fetch(`${relay.url}/health`)).status, 200, 'alive without Redis');
    const ready = await fetch(`${relay.url}/ready`);
    assert.equal(ready.status, 503);
    const body = (await ready.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.error), ['redis']);

    await redis.start();
    await waitUntil(async () => (await relay.ready()) === 200, 10_000, 'readiness after Redis starts');
    const echo = createEcho(relay.url, 4);
    try {
      const got = collect(echo, 'orders', '.paid');
      await connected(echo);
      await relay.waitForSubscribers('orders', 1);
      const laravel = new LaravelPublisher(redis.url);
      await laravel.broadcast(['orders'], 'paid', { id: 1 });
      await laravel?.close();
      await waitUntil(() => got.length === 1);
    } finally {
      echo.disconnect();
    }
  });

  it('resubscribes after Redis restarts mid-run and delivers what is published afterwards', async () => {
    const { redis, relay } = await setUp(true);
    await waitUntil(async () => (await relay.ready()) === 200, 5000, 'initial readiness');
    const echo = createEcho(relay.url, 2);
    try {
      const got = collect(echo, 'orders', '.paid');
      await connected(echo);
      await relay.waitForSubscribers('orders', 1);

      await redis.stop(true);
      await waitUntil(async () => (await relay.ready()) === 503, 5000, 'readiness to fail while Redis is down');
      await redis.start();
      await waitUntil(async () => (await relay.ready()) === 200, 10_000, 'readiness after the restart');

      const laravel = new LaravelPublisher(redis.url);
      await laravel.broadcast(['orders'], 'paid', { id: 2 });
      await laravel?.close();
      await waitUntil(() => got.length === 1);
      assert.deepEqual(got, [{ id: 2 }]);
      assert.equal(relay.gateway.localSubscriberCount('orders'), 1, 'clients stayed connected through the outage');
    } finally {
      echo.disconnect();
    }
  });
});
