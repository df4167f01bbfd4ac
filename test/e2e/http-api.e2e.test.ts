import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { collect, connected, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { ApiClient, type KeyStyle } from '../support/http-api.js';
import type { LaravelPublisher } from '../support/laravel-publisher.js';
import { waitUntil } from '../support/ports.js';
import type { TestRelay } from '../support/relay.js';

const PREFIX = 'laravel_database_';
const CLIENTS = [
  { appId: 'shop', key: 'shop-secret' },
  { appId: 'blog', key: 'blog-secret' },
];

describe('HTTP API of laravel-echo-server', () => {
  const fx = useFixture({ prefix: PREFIX, overrides: { api: { clients: CLIENTS } } });
  let relay: TestRelay;
  let api: ApiClient;
  let laravel: LaravelPublisher;

  beforeAll(() => {
    ({ relay, laravel } = fx);
    api = fx.api('shop', 'shop-secret');
  });

  // After the fixture's afterEach has disconnected the test's clients.
  afterEach(async () => {
    await waitUntil(async () => (await relay.gateway.clusterSockets()).length === 0, 5000, 'clients gone');
  });

  const echoOn = (channel: string, version: 2 | 4 = 4): Promise<TestEcho> => fx.echoOn(channel, { version });

  describe('authorisation', () => {
    for (const style of ['query', 'bearer'] as KeyStyle[]) {
      it(`accepts the app's key as ${style === 'query' ? '?auth_key=' : 'Authorization: Bearer'}`, async () => {
        const answer = await api.get('/status', { style });
        expect(answer.status).toBe(200);
      });

      it(`refuses a wrong key sent as ${style}`, async () => {
        const answer = await api.get('/status', { style, key: 'shop-secreT' });
        expect([answer.status, answer.body]).toEqual([403, { error: 'Unauthorized' }]);
      });

      it(`refuses the key of another app sent as ${style}`, async () => {
        const answer = await api.get('/status', { style, key: 'blog-secret' });
        expect([answer.status, answer.body]).toEqual([403, { error: 'Unauthorized' }]);
      });
    }

    it('refuses a request without a key, and an app that is not configured', async () => {
      expect((await api.get('/channels', { key: null })).body).toEqual({ error: 'Unauthorized' });
      const unknown = await api.get('/status', { appId: 'nobody' });
      expect([unknown.status, unknown.body]).toEqual([403, { error: 'Unauthorized' }]);
    });

    it('lets each app in with its own key', async () => {
      const blog = new ApiClient(relay.apiUrl, 'blog', 'blog-secret');
      expect((await blog.get('/status', { style: 'bearer' })).status).toBe(200);
    });

    it('refuses publishing with a wrong key, and delivers nothing', async () => {
      const echo = await echoOn('guarded');
      const got = collect(echo, 'guarded', '.notice');
      await relay.waitForSubscribers('guarded', 1);
      const refused = await api.publish({ channel: 'guarded', name: 'notice', data: { n: 1 } }, { key: 'blog-secret' });
      expect([refused.status, refused.body]).toEqual([403, { error: 'Unauthorized' }]);
      await laravel.broadcast(['guarded'], 'notice', { n: 2 });
      await waitUntil(() => got.length === 1);
      expect(got).toEqual([{ n: 2 }]);
    });

    it('keeps the key out of a 404 answer', async () => {
      const answer = await api.get('/nowhere');
      expect(answer.status).toBe(404);
      expect(JSON.stringify(answer.body)).not.toMatch(/shop-secret/);
    });
  });

  describe('GET /apps/:appId/status', () => {
    it('answers {subscription_count, uptime, memory_usage}, counting connected sockets', async () => {
      const before = await api.get('/status');
      expect(before.status).toBe(200);
      const body = before.body as { subscription_count: number; uptime: number; memory_usage: NodeJS.MemoryUsage };
      expect(Object.keys(body).sort()).toEqual(['memory_usage', 'subscription_count', 'uptime']);
      expect(body.subscription_count).toBe(0);
      expect(body.uptime).toBeGreaterThan(0);
      expect(typeof body.memory_usage.rss).toBe('number');
      expect(typeof body.memory_usage.heapUsed).toBe('number');
      await echoOn('status-a', 4);
      await echoOn('status-b', 2);
      const after = (await api.get('/status')).body as { subscription_count: number };
      expect(after.subscription_count).toBe(2);
    });
  });

  describe('GET /apps/:appId/channels', () => {
    it('lists occupied channels with their counts as clients join and leave', async () => {
      expect((await api.get('/channels')).body).toEqual({ channels: {} });
      const a = await echoOn('orders.1', 4);
      const b = await echoOn('orders.1', 2);
      b.channel('news');
      await relay.waitForSubscribers('orders.1', 2);
      await relay.waitForSubscribers('news', 1);
      expect((await api.get('/channels')).body).toEqual({
        channels: {
          news: { subscription_count: 1, occupied: true },
          'orders.1': { subscription_count: 2, occupied: true },
        },
      });
      a.leave('orders.1');
      await relay.waitForSubscribers('orders.1', 1);
      expect((await api.get('/channels')).body).toEqual({
        channels: {
          news: { subscription_count: 1, occupied: true },
          'orders.1': { subscription_count: 1, occupied: true },
        },
      });
      b.disconnect();
      await relay.waitForSubscribers('orders.1', 0);
      expect((await api.get('/channels')).body).toEqual({ channels: {} });
    });

    it('filters by prefix', async () => {
      const echo = await echoOn('orders.1');
      echo.channel('orders.2');
      echo.channel('news');
      await relay.waitForSubscribers('orders.2', 1);
      await relay.waitForSubscribers('news', 1);
      const answer = await api.get('/channels?filter_by_prefix=orders.');
      expect(Object.keys((answer.body as { channels: object }).channels)).toEqual(['orders.1', 'orders.2']);
      expect((await api.get('/channels?filter_by_prefix=none')).body).toEqual({ channels: {} });
    });
  });

  describe('GET /apps/:appId/channels/:channel', () => {
    it('answers {subscription_count, occupied}, following joins and leaves', async () => {
      expect((await api.get('/channels/room.7')).body).toEqual({ subscription_count: 0, occupied: false });
      const a = await echoOn('room.7', 4);
      await echoOn('room.7', 2);
      await relay.waitForSubscribers('room.7', 2);
      expect((await api.get('/channels/room.7')).body).toEqual({ subscription_count: 2, occupied: true });
      a.leave('room.7');
      await relay.waitForSubscribers('room.7', 1);
      expect((await api.get('/channels/room.7')).body).toEqual({ subscription_count: 1, occupied: true });
    });

    it('adds user_count for a presence channel', async () => {
      // Presence members arrive with the channels feature; until then the directory is empty.
      expect((await api.get('/channels/presence-lobby')).body).toEqual({
        subscription_count: 0,
        occupied: false,
        user_count: 0,
      });
    });

    it('decodes channel names from the path', async () => {
      await echoOn('App.Models.User.1');
      await relay.waitForSubscribers('App.Models.User.1', 1);
      const answer = await api.get(`/channels/${encodeURIComponent('App.Models.User.1')}`);
      expect(answer.body).toEqual({ subscription_count: 1, occupied: true });
    });
  });

  describe('GET /apps/:appId/channels/:channel/users', () => {
    it('answers {users: [...]} for a presence channel', async () => {
      const answer = await api.get('/channels/presence-lobby/users');
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ users: [] });
    });

    it('answers 400 for channels that are not presence channels', async () => {
      for (const channel of ['lobby', 'private-lobby', 'private-encrypted-lobby']) {
        const answer = await api.get(`/channels/${channel}/users`);
        expect(answer.status).toBe(400);
        expect(answer.body).toEqual({ error: 'User list is only possible for Presence Channels' });
      }
    });
  });

  describe('bad requests', () => {
    it('answers 4xx with a JSON error naming the problem, and keeps serving', async () => {
      const echo = await echoOn('after-errors');
      const got = collect(echo, 'after-errors', '.ok');
      await relay.waitForSubscribers('after-errors', 1);
      const cases: { body: string; status: number; error: RegExp; contentType?: string }[] = [
        { body: '{"channel": "after-errors",', status: 400, error: /not valid JSON/ },
        { body: 'not json at all', status: 400, error: /not valid JSON/ },
        { body: '[1, 2]', status: 400, error: /must be a JSON object/ },
        { body: '"text"', status: 400, error: /not valid JSON/ },
        { body: JSON.stringify({ name: 'ok', data: {} }), status: 400, error: /"channel"/ },
        { body: JSON.stringify({ channel: 'after-errors', data: {} }), status: 400, error: /"name"/ },
        { body: JSON.stringify({ channel: 'after-errors', name: 'ok' }), status: 400, error: /"data"/ },
        { body: JSON.stringify({ channel: 'after-errors', name: 'ok', data: 5 }), status: 400, error: /"data"/ },
        { body: JSON.stringify({ channels: [], name: 'ok', data: {} }), status: 400, error: /"channels"/ },
        { body: JSON.stringify({ channel: 'a b', name: 'ok', data: {} }), status: 400, error: /"channel"/ },
        { body: JSON.stringify({ channel: 'after-errors', name: 'connect', data: {} }), status: 400, error: /"name"/ },
        {
          body: JSON.stringify({ channel: 'after-errors', name: 'ok', data: {}, socket_id: 7 }),
          status: 400,
          error: /"socket_id"/,
        },
        {
          body: JSON.stringify({ channel: 'after-errors', name: 'ok', data: { big: 'x'.repeat(110_000) } }),
          status: 413,
          error: /larger than 102400 bytes/,
        },
        // Any content type is read as JSON, as laravel-echo-server read it: a real form is not JSON.
        {
          body: 'channel=after-errors&name=ok&data=x',
          status: 400,
          error: /not valid JSON/,
          contentType: 'application/x-www-form-urlencoded',
        },
      ];
      let n = 0;
      for (const { body, status, error, contentType } of cases) {
        const answer = await api.publish(body, { contentType });
        expect(answer.status).toBe(status);
        expect(answer.headers.get('content-type')?.startsWith('application/json')).toBe(true);
        expect((answer.body as { error: string }).error).toMatch(error);
        // The server is still there and still delivers.
        const ok = await api.publish({ channel: 'after-errors', name: 'ok', data: { n: ++n } });
        expect([ok.status, ok.body]).toEqual([200, { message: 'ok' }]);
      }
      await waitUntil(() => got.length === cases.length);
      // only the valid requests were delivered
      expect(got).toEqual(cases.map((_, i) => ({ n: i + 1 })));
    });

    it('answers unknown API paths with a JSON 404', async () => {
      const answer = await api.get('/channels/a/b/c');
      expect(answer.status).toBe(404);
      expect((answer.body as { error: string }).error).toMatch(/no such endpoint/);
    });
  });

  describe('around the API', () => {
    it('keeps /health and /ready open without a key', async () => {
      expect((await fetch(`${relay.url}/health`)).status).toBe(200);
      expect((await fetch(`${relay.url}/ready`)).status).toBe(200);
    });

    it('answers no CORS headers while CORS is off', async () => {
      const res = await fetch(`${relay.apiUrl}/apps/shop/status?auth_key=shop-secret`, {
        headers: { origin: 'http://app.test' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(null);
    });
  });
});

describe('HTTP API with publishing turned off (subscribers.http: false)', () => {
  const fx = useFixture({
    prefix: PREFIX,
    env: { ECHO_RELAY_SUBSCRIBE_HTTP: 'false' },
    overrides: { api: { clients: CLIENTS } },
  });
  let relay: TestRelay;
  let laravel: LaravelPublisher;

  beforeAll(() => {
    ({ relay, laravel } = fx);
  });

  it('refuses events with 403 and a clear error, counts the drop, delivers nothing, and still reads', async () => {
    const api = fx.api('shop', 'shop-secret');
    const echo = fx.client();
    const got = collect(echo, 'closed', '.notice');
    await connected(echo);
    await relay.waitForSubscribers('closed', 1);
    const refused = await api.publish({ channel: 'closed', name: 'notice', data: { via: 'http' } });
    expect(refused.status).toBe(403);
    expect((refused.body as { error: string }).error).toMatch(/publishing over HTTP is disabled/);
    expect(
      (await relay.metrics.messagesDropped.get()).values.find((v) => v.labels.reason === 'http_disabled')?.value,
    ).toBe(1);
    await laravel.broadcast(['closed'], 'notice', { via: 'redis' });
    await waitUntil(() => got.length === 1);
    expect(got).toEqual([{ via: 'redis' }]);
    expect((await api.get('/channels/closed')).body).toEqual({ subscription_count: 1, occupied: true });
  });
});
