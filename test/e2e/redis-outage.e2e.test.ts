import { afterAll, describe, expect, it } from '@jest/globals';
import { collect, connected } from '../support/echo-client.js';
import { Fixture } from '../support/fixture.js';
import type { ApiAnswer } from '../support/http-api.js';
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
    // Neither Laravel's subscription nor the recovery history's notifications are live.
    expect(Object.keys(body.error).sort()).toEqual(['recovery', 'redis']);

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

  it('HTTP API: 503 {error} at once for every endpoint needing Redis while it is down, no stack traces, 200 after', async () => {
    const fx = new Fixture({
      nodes: 1,
      prefix: 'laravel_database_',
      overrides: { api: { clients: [{ appId: 'shop', key: 'shop-secret' }] } },
      auth: { ann: { id: 1, info: { name: 'Ann' } } },
    });
    fixtures.push(fx);
    await fx.start();
    const { relay, server: redis } = fx;
    const api = fx.api('shop', 'shop-secret');
    const ann = await fx.echoAs('ann');
    ann.join('lobby');
    const got = collect(ann, 'orders', '.paid');
    await relay.waitForSubscribers('presence-lobby', 1);
    await relay.waitForSubscribers('orders', 1);
    const ann1 = { id: 1, user_info: { name: 'Ann' } };
    expect((await api.get('/channels/presence-lobby/users')).body).toEqual({ users: [ann1] });

    // Nest's Logger is process-wide: lines land in the logger of whichever relay started last.
    const logs = (): { level: string; message: string }[] =>
      fixtures.flatMap((f) => f.nodes.flatMap((node) => node.logs.lines));
    const before = logs().length;
    await redis.stop(true);
    await waitUntil(async () => (await relay.ready()) === 503, 10_000, 'readiness to fail while Redis is down');
    // The first answer may come before every Redis connection noticed; from then on each is 503.
    await waitUntil(async () => (await bounded(api.get('/status'))).status === 503, 10_000, 'status to answer 503');
    let tag = 'during';
    const requests: [string, () => Promise<ApiAnswer>][] = [
      ['status', () => api.get('/status')],
      ['channels', () => api.get('/channels')],
      ['channels?filter_by_prefix', () => api.get('/channels?filter_by_prefix=presence-')],
      ['channel', () => api.get('/channels/orders')],
      ['presence channel', () => api.get('/channels/presence-lobby')],
      ['users', () => api.get('/channels/presence-lobby/users')],
      ['publish', () => api.publish({ channel: 'orders', name: 'paid', data: { id: tag } })],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [name, request] of requests) {
        const answer = await bounded(request());
        expect([name, answer.status]).toEqual([name, 503]);
        expect(answer.body).toEqual({ error: expect.stringMatching(/^Redis (is unreachable|did not answer)/) });
      }
    }
    // A bad body is still a 400 naming the problem.
    expect((await api.publish({ channel: 'orders', data: {} })).status).toBe(400);

    const during = logs().slice(before);
    expect(during.filter((line) => /\n\s+at /.test(line.message))).toEqual([]);
    expect(during.filter((line) => line.level === 'error')).toEqual([]);
    const warnings = during.filter((line) => line.message.includes('HTTP API answered 503'));
    // Throttled: one line per 10 s, not one per each of the 21 requests.
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThan(4);

    await redis.start();
    await waitUntil(async () => (await relay.ready()) === 200, 15_000, 'readiness after the restart');
    tag = 'after';
    for (const [name, request] of requests) {
      await waitUntil(async () => (await bounded(request())).status === 200, 15_000, `${name} to answer 200 again`);
    }
    // The users list is right again once presence re-registered Ann.
    await waitUntil(
      async () =>
        JSON.stringify((await api.get('/channels/presence-lobby/users')).body) === JSON.stringify({ users: [ann1] }),
      15_000,
      'Ann listed again',
    );
    // The refused publishes reached nobody, not even this node's socket; the accepted one did.
    await waitUntil(() => got.length >= 1, 10_000, 'the publish after the restart');
    expect(got).toEqual([{ id: 'after' }]);
  });
});

/** The answer, or a failure if it takes longer than a request that waits on a dead Redis should. */
async function bounded(answer: Promise<ApiAnswer>, ms = 10_000): Promise<ApiAnswer> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
