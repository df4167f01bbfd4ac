import assert from 'node:assert/strict';
import { afterEach, beforeAll, describe, it } from '@jest/globals';
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
        assert.equal(answer.status, 200);
      });

      it(`refuses a wrong key sent as ${style}`, async () => {
        const answer = await api.get('/status', { style, key: 'shop-secreT' });
        assert.deepEqual([answer.status, answer.body], [403, { error: 'Unauthorized' }]);
      });

      it(`refuses the key of another app sent as ${style}`, async () => {
        const answer = await api.get('/status', { style, key: 'blog-secret' });
        assert.deepEqual([answer.status, answer.body], [403, { error: 'Unauthorized' }]);
      });
    }

    it('refuses a request without a key, and an app that is not configured', async () => {
      assert.deepEqual((await api.get('/channels', { key: null })).body, { error: 'Unauthorized' });
      const unknown = await api.get('/status', { appId: 'nobody' });
      assert.deepEqual([unknown.status, unknown.body], [403, { error: 'Unauthorized' }]);
    });

    it('lets each app in with its own key', async () => {
      const blog = new ApiClient(relay.apiUrl, 'blog', 'blog-secret');
      assert.equal((await blog.get('/status', { style: 'bearer' })).status, 200);
    });

    it('refuses publishing with a wrong key, and delivers nothing', async () => {
      const echo = await echoOn('guarded');
      const got = collect(echo, 'guarded', '.ping');
      await relay.waitForSubscribers('guarded', 1);
      const refused = await api.publish({ channel: 'guarded', name: 'ping', data: { n: 1 } }, { key: 'blog-secret' });
      assert.deepEqual([refused.status, refused.body], [403, { error: 'Unauthorized' }]);
      await laravel.broadcast(['guarded'], 'ping', { n: 2 });
      await waitUntil(() => got.length === 1);
      assert.deepEqual(got, [{ n: 2 }]);
    });

    it('keeps the key out of a 404 answer', async () => {
      const answer = await api.get('/nowhere');
      assert.equal(answer.status, 404);
      assert.doesNotMatch(JSON.stringify(answer.body), /shop-secret/);
    });
  });

  describe('GET /apps/:appId/status', () => {
    it('answers {subscription_count, uptime, memory_usage}, counting connected sockets', async () => {
      const before = await api.get('/status');
      assert.equal(before.status, 200);
      const body = before.body as { subscription_count: number; uptime: number; memory_usage: NodeJS.MemoryUsage };
      assert.deepEqual(Object.keys(body).sort(), ['memory_usage', 'subscription_count', 'uptime']);
      assert.equal(body.subscription_count, 0);
      assert.ok(body.uptime > 0);
      assert.equal(typeof body.memory_usage.rss, 'number');
      assert.equal(typeof body.memory_usage.heapUsed, 'number');
      await echoOn('status-a', 4);
      await echoOn('status-b', 2);
      const after = (await api.get('/status')).body as { subscription_count: number };
      assert.equal(after.subscription_count, 2);
    });
  });

  describe('GET /apps/:appId/channels', () => {
    it('lists occupied channels with their counts as clients join and leave', async () => {
      assert.deepEqual((await api.get('/channels')).body, { channels: {} });
      const a = await echoOn('orders.1', 4);
      const b = await echoOn('orders.1', 2);
      b.channel('news');
      await relay.waitForSubscribers('orders.1', 2);
      await relay.waitForSubscribers('news', 1);
      assert.deepEqual((await api.get('/channels')).body, {
        channels: {
          news: { subscription_count: 1, occupied: true },
          'orders.1': { subscription_count: 2, occupied: true },
        },
      });
      a.leave('orders.1');
      await relay.waitForSubscribers('orders.1', 1);
      assert.deepEqual((await api.get('/channels')).body, {
        channels: {
          news: { subscription_count: 1, occupied: true },
          'orders.1': { subscription_count: 1, occupied: true },
        },
      });
      b.disconnect();
      await relay.waitForSubscribers('orders.1', 0);
      assert.deepEqual((await api.get('/channels')).body, { channels: {} });
    });

    it('filters by prefix', async () => {
      const echo = await echoOn('orders.1');
      echo.channel('orders.2');
      echo.channel('news');
      await relay.waitForSubscribers('orders.2', 1);
      await relay.waitForSubscribers('news', 1);
      const answer = await api.get('/channels?filter_by_prefix=orders.');
      assert.deepEqual(Object.keys((answer.body as { channels: object }).channels), ['orders.1', 'orders.2']);
      assert.deepEqual((await api.get('/channels?filter_by_prefix=none')).body, { channels: {} });
    });
  });

  describe('GET /apps/:appId/channels/:channel', () => {
    it('answers {subscription_count, occupied}, following joins and leaves', async () => {
      assert.deepEqual((await api.get('/channels/room.7')).body, { subscription_count: 0, occupied: false });
      const a = await echoOn('room.7', 4);
      await echoOn('room.7', 2);
      await relay.waitForSubscribers('room.7', 2);
      assert.deepEqual((await api.get('/channels/room.7')).body, { subscription_count: 2, occupied: true });
      a.leave('room.7');
      await relay.waitForSubscribers('room.7', 1);
      assert.deepEqual((await api.get('/channels/room.7')).body, { subscription_count: 1, occupied: true });
    });

    it('adds user_count for a presence channel', async () => {
      // Presence members arrive with the channels feature; until then the directory is empty.
      assert.deepEqual((await api.get('/channels/presence-lobby')).body, {
        subscription_count: 0,
        occupied: false,
        user_count: 0,
      });
    });

    it('decodes channel names from the path', async () => {
      await echoOn('App.Models.User.1');
      await relay.waitForSubscribers('App.Models.User.1', 1);
      const answer = await api.get(`/channels/${encodeURIComponent('App.Models.User.1')}`);
      assert.deepEqual(answer.body, { subscription_count: 1, occupied: true });
    });
  });

  describe('GET /apps/:appId/channels/:channel/users', () => {
    it('answers {users: [...]} for a presence channel', async () => {
      const answer = await api.get('/channels/presence-lobby/users');
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, { users: [] });
    });

    it('answers 400 for channels that are not presence channels', async () => {
      for (const channel of ['lobby', 'private-lobby', 'private-encrypted-lobby']) {
        const answer = await api.get(`/channels/${channel}/users`);
        assert.equal(answer.status, 400, channel);
        assert.deepEqual(answer.body, { error: 'User list is only possible for Presence Channels' });
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
        { body: JSON.stringify({ channel: 'after-errors', name: 'ok', data: 'hello' }), status: 400, error: /JSON/ },
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
        {
          body: JSON.stringify({ channel: 'after-errors', name: 'ok', data: {} }),
          status: 400,
          error: /Content-Type: application\/json/,
          contentType: 'text/plain',
        },
      ];
      let n = 0;
      for (const { body, status, error, contentType } of cases) {
        const answer = await api.publish(body, { contentType });
        assert.equal(answer.status, status, body.slice(0, 80));
        assert.equal(answer.headers.get('content-type')?.startsWith('application/json'), true);
        assert.match((answer.body as { error: string }).error, error, body.slice(0, 80));
        // The server is still there and still delivers.
        const ok = await api.publish({ channel: 'after-errors', name: 'ok', data: { n: ++n } });
        assert.deepEqual([ok.status, ok.body], [200, { message: 'ok' }]);
      }
      await waitUntil(() => got.length === cases.length);
      assert.deepEqual(
        got,
        cases.map((_, i) => ({ n: i + 1 })),
        'only the valid requests were delivered',
      );
    });

    it('answers unknown API paths with a JSON 404', async () => {
      const answer = await api.get('/channels/a/b/c');
      assert.equal(answer.status, 404);
      assert.match((answer.body as { error: string }).error, /no such endpoint/);
    });
  });

  describe('around the API', () => {
    it('keeps /health and /ready open without a key', async () => {
      assert.equal((await fetch(`${relay.url}/health`)).status, 200);
      assert.equal((await fetch(`${relay.url}/ready`)).status, 200);
    });

    it('answers no CORS headers while CORS is off', async () => {
      const res = await fetch(`${relay.apiUrl}/apps/shop/status?auth_key=shop-secret`, {
        headers: { origin: 'http://app.test' },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
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
    const got = collect(echo, 'closed', '.ping');
    await connected(echo);
    await relay.waitForSubscribers('closed', 1);
    const refused = await api.publish({ channel: 'closed', name: 'ping', data: { via: 'http' } });
    assert.equal(refused.status, 403);
    assert.match((refused.body as { error: string }).error, /publishing over HTTP is disabled/);
    assert.equal(
      (await relay.metrics.messagesDropped.get()).values.find((v) => v.labels.reason === 'http_disabled')?.value,
      1,
    );
    await laravel.broadcast(['closed'], 'ping', { via: 'redis' });
    await waitUntil(() => got.length === 1);
    assert.deepEqual(got, [{ via: 'redis' }]);
    assert.deepEqual((await api.get('/channels/closed')).body, { subscription_count: 1, occupied: true });
  });
});
