import { beforeAll, describe, expect, it } from '@jest/globals';
import { collect, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { delta, sample, scrape, type ApiClient } from '../support/http-api.js';
import type { LaravelPublisher } from '../support/laravel-publisher.js';
import { waitUntil } from '../support/ports.js';
import type { TestRelay } from '../support/relay.js';

const PREFIX = 'laravel_database_';
const P = 'echo_relay_';

describe('Prometheus metrics at /metrics', () => {
  const fx = useFixture({ prefix: PREFIX, overrides: { api: { clients: [{ appId: 'app', key: 'app-key' }] } } });
  let relay: TestRelay;
  let api: ApiClient;
  let laravel: LaravelPublisher;

  beforeAll(() => {
    ({ relay, laravel } = fx);
    api = fx.api('app', 'app-key');
  });

  const echoOn = (version: 2 | 4, channel: string): Promise<TestEcho> => fx.echoOn(channel, { version });

  it('serves the Prometheus text format with Node process metrics under the prefix, without a key', async () => {
    const res = await fetch(`${relay.apiUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type') ?? '').toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'messages_received_total',
      'ingest_to_emit_seconds',
    ]) {
      expect(text).toMatch(new RegExp(`^# TYPE ${P}${name} `, 'm'));
    }
    expect(sample(await scrape(relay.apiUrl), `${P}redis_subscribed`)).toBe(1);
  });

  it('counts connections by Engine.IO version and subscriptions by channel type as clients come and go', async () => {
    const before = await scrape(relay.apiUrl);
    const v4 = await echoOn(4, 'metrics-public-a');
    const v2 = await echoOn(2, 'metrics-public-a');
    v2.channel('metrics-public-b');
    await relay.waitForSubscribers('metrics-public-a', 2);
    await relay.waitForSubscribers('metrics-public-b', 1);
    const during = await scrape(relay.apiUrl);
    expect(delta(before, during, `${P}connections`, { eio: '4' })).toBe(1);
    expect(delta(before, during, `${P}connections`, { eio: '3' })).toBe(1);
    expect(delta(before, during, `${P}subscriptions`, { type: 'public' })).toBe(3);
    v2.leave('metrics-public-b');
    await relay.waitForSubscribers('metrics-public-b', 0);
    expect(delta(before, await scrape(relay.apiUrl), `${P}subscriptions`, { type: 'public' })).toBe(2);
    v4.disconnect();
    v2.disconnect();
    await relay.waitForSubscribers('metrics-public-a', 0);
    await waitUntil(async () => {
      const now = await scrape(relay.apiUrl);
      return (
        delta(before, now, `${P}connections`, { eio: '3' }) === 0 &&
        delta(before, now, `${P}connections`, { eio: '4' }) === 0
      );
    });
    const afterAll = await scrape(relay.apiUrl);
    expect(delta(before, afterAll, `${P}connections`, { eio: '4' })).toBe(0);
    expect(delta(before, afterAll, `${P}subscriptions`, { type: 'public' })).toBe(0);
  });

  it('moves received, delivered, dropped and ingest-to-emit as messages flow from Redis and HTTP', async () => {
    const a = await echoOn(4, 'metrics-flow');
    const b = await echoOn(2, 'metrics-flow');
    const gotA = collect(a, 'metrics-flow', '.tick');
    const gotB = collect(b, 'metrics-flow', '.tick');
    await relay.waitForSubscribers('metrics-flow', 2);
    try {
      const before = await scrape(relay.apiUrl);
      await laravel.broadcast(['metrics-flow'], 'tick', { via: 'redis' });
      await laravel.publishRaw(`${PREFIX}metrics-flow`, '{"event": "tick", "data": ');
      await laravel.broadcast(['metrics-flow'], 'disconnect', {});
      expect((await api.publish({ channel: 'metrics-flow', name: 'tick', data: { via: 'http' } })).status).toBe(200);
      expect((await api.publish('{"channel": ')).status).toBe(400);
      expect((await api.publish({ channel: 'metrics-flow', name: 'tick' })).status).toBe(400);
      expect((await api.publish({ channel: 'metrics-flow', name: 'tick', data: { n: 1 } }, { key: 'x' })).status).toBe(
        403,
      );
      await waitUntil(() => gotA.length === 2 && gotB.length === 2);
      // Redis drops are counted asynchronously: wait for the last one.
      await waitUntil(
        async () => delta(before, await scrape(relay.apiUrl), `${P}messages_received_total`, { source: 'redis' }) === 3,
      );
      const after = await scrape(relay.apiUrl);
      expect(delta(before, after, `${P}messages_received_total`, { source: 'redis' })).toBe(3);
      // the 403 is no message
      expect(delta(before, after, `${P}messages_received_total`, { source: 'http' })).toBe(3);
      expect(delta(before, after, `${P}messages_dropped_total`, { reason: 'invalid_json' })).toBe(2);
      expect(delta(before, after, `${P}messages_dropped_total`, { reason: 'invalid_event' })).toBe(1);
      expect(delta(before, after, `${P}messages_dropped_total`, { reason: 'invalid_data' })).toBe(1);
      // two messages to two sockets
      expect(delta(before, after, `${P}deliveries_total`)).toBe(4);
      expect(delta(before, after, `${P}ingest_to_emit_seconds_count`)).toBe(2);
      expect(delta(before, after, `${P}ingest_to_emit_seconds_sum`)).toBeGreaterThan(0);
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });

  it('labels by channel type and reason only, never by channel name', async () => {
    const echo = await echoOn(4, 'secret-channel-name-42');
    await relay.waitForSubscribers('secret-channel-name-42', 1);
    await laravel.broadcast(['secret-channel-name-42'], 'tick', {});
    await api.publish({ channel: 'secret-channel-name-42', name: 'tick', data: {} });
    const text = await (await fetch(`${relay.apiUrl}/metrics`)).text();
    echo.disconnect();
    expect(text).not.toMatch(/secret-channel-name-42/);
  });
});
