import { afterAll, describe, expect, it } from '@jest/globals';
import { collect, connected } from '../support/echo-client.js';
import { Fixture } from '../support/fixture.js';
import { waitUntil } from '../support/ports.js';
import type { TestRedis } from '../support/redis-server.js';
import type { TestRelay } from '../support/relay.js';

describe('Redis outages', () => {
  // Each test has a Redis of its own, started (or stopped) before its relay, not waiting for readiness.
  const fixtures: Fixture[] = [];
  afterAll(async () => {
    await Promise.all(fixtures.map((fx) => fx.stop()));
  });

  async function setUp(startRedisFirst: boolean): Promise<{ fx: Fixture; redis: TestRedis; relay: TestRelay }> {
    const fx = new Fixture({ nodes: 0, ready: false, prefix: 'laravel_database_' });
    fixtures.push(fx);
    await fx.start();
    if (!startRedisFirst) await fx.server.stop(true);
    const relay = await fx.startNode();
    return { fx, redis: fx.server, relay };
  }

  it('starts without Redis, reports 503 on /ready, and subscribes once Redis appears', async () => {
    const { fx, redis, relay } = await setUp(false);
    // alive without Redis
    expect((await fetch(`${relay.url}/health`)).status).toBe(200);
    const ready = await fetch(`${relay.url}/ready`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body.error)).toEqual(['redis']);

    await redis.start();
    await waitUntil(async () => (await relay.ready()) === 200, 10_000, 'readiness after Redis starts');
    const echo = fx.client({ on: relay, version: 4 });
    const got = collect(echo, 'orders', '.paid');
    await connected(echo);
    await relay.waitForSubscribers('orders', 1);
    await fx.laravel.broadcast(['orders'], 'paid', { id: 1 });
    await waitUntil(() => got.length === 1);
  });

  it('resubscribes after Redis restarts mid-run and delivers what is published afterwards', async () => {
    const { fx, redis, relay } = await setUp(true);
    await waitUntil(async () => (await relay.ready()) === 200, 5000, 'initial readiness');
    const echo = fx.client({ on: relay, version: 2 });
    const got = collect(echo, 'orders', '.paid');
    await connected(echo);
    await relay.waitForSubscribers('orders', 1);

    await redis.stop(true);
    await waitUntil(async () => (await relay.ready()) === 503, 5000, 'readiness to fail while Redis is down');
    await redis.start();
    await waitUntil(async () => (await relay.ready()) === 200, 10_000, 'readiness after the restart');

    await fx.laravel.broadcast(['orders'], 'paid', { id: 2 });
    await waitUntil(() => got.length === 1);
    expect(got).toEqual([{ id: 2 }]);
    // clients stayed connected through the outage
    expect(relay.gateway.localSubscriberCount('orders')).toBe(1);
  });
});
