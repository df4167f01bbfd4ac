import { beforeAll, describe, expect, it } from '@jest/globals';
import { collect, connected } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { waitUntil } from '../support/ports.js';
import type { TestRelay } from '../support/relay.js';

const CLIENTS = [{ appId: 'app', key: 'app-key' }];

function preflight(url: string, origin: string): Promise<Response> {
  return fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });
}

describe('CORS for the HTTP API (apiOriginAllow)', () => {
  const fx = useFixture({
    env: {
      ECHO_RELAY_API_CORS: 'true',
      // The old README's value, with the default port spelled out, plus a second origin.
      ECHO_RELAY_API_CORS_ORIGINS: 'http://localhost:80, https://admin.test',
      ECHO_RELAY_API_CORS_METHODS: 'GET, POST',
      ECHO_RELAY_API_CORS_HEADERS: 'Authorization, Content-Type',
    },
    overrides: { api: { clients: CLIENTS } },
  });
  let relay: TestRelay;

  beforeAll(() => {
    relay = fx.relay;
  });

  it('answers a preflight from an allowed origin with 204 and the configured headers', async () => {
    for (const origin of ['http://localhost', 'https://admin.test']) {
      const res = await preflight(`${relay.apiUrl}/apps/app/events`, origin);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST');
      expect(res.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type');
      expect(res.headers.get('vary') ?? '').toMatch(/Origin/);
    }
  });

  it('refuses a preflight from any other origin, without CORS headers', async () => {
    for (const origin of ['https://evil.test', 'http://localhost:8080', 'null']) {
      const res = await preflight(`${relay.apiUrl}/apps/app/events`, origin);
      expect(res.status).toBe(403);
      // fetch's JSON comes from Node's realm, not the spec's: compare by value, not prototype.
      expect(await res.json()).toEqual({ error: 'Origin not allowed' });
      expect(res.headers.get('access-control-allow-origin')).toBe(null);
      expect(res.headers.get('access-control-allow-methods')).toBe(null);
    }
  });

  it('adds the allow-origin header to real answers, errors included, for allowed origins only', async () => {
    const ok = await fetch(`${relay.apiUrl}/apps/app/status?auth_key=app-key`, {
      headers: { origin: 'https://admin.test' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://admin.test');
    const denied = await fetch(`${relay.apiUrl}/apps/app/status?auth_key=wrong`, {
      headers: { origin: 'https://admin.test' },
    });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('access-control-allow-origin')).toBe('https://admin.test');
    const other = await fetch(`${relay.apiUrl}/apps/app/status?auth_key=app-key`, {
      headers: { origin: 'https://evil.test' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBe(null);
  });

  it('leaves the health probes without API CORS headers', async () => {
    const res = await fetch(`${relay.url}/health`, { headers: { origin: 'https://admin.test' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(null);
  });
});

describe('HTTP API and metrics on a separate listener (api.port)', () => {
  const fx = useFixture({
    env: { ECHO_RELAY_API_PORT: '0', ECHO_RELAY_API_HOST: '127.0.0.1' },
    overrides: { api: { clients: CLIENTS } },
  });
  let relay: TestRelay;

  beforeAll(() => {
    relay = fx.relay;
  });

  it('serves the API and /metrics on their own port, and not on the WebSocket port', async () => {
    expect(relay.apiUrl).not.toBe(relay.url);
    expect((await fetch(`${relay.apiUrl}/apps/app/status?auth_key=app-key`)).status).toBe(200);
    expect((await fetch(`${relay.apiUrl}/metrics`)).status).toBe(200);
    const api = await fetch(`${relay.url}/apps/app/status?auth_key=app-key`);
    expect(api.status).toBe(404);
    expect(await api.text()).not.toMatch(/app-key/);
    expect((await fetch(`${relay.url}/metrics`)).status).toBe(404);
    const post = await fetch(`${relay.url}/apps/app/events?auth_key=app-key`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"not json',
    });
    // refused before the body is read
    expect(post.status).toBe(404);
  });

  it('keeps /health and /ready on the main port', async () => {
    expect((await fetch(`${relay.url}/health`)).status).toBe(200);
    expect((await fetch(`${relay.url}/ready`)).status).toBe(200);
  });

  it('answers /health and /ready on the API port too, where a probe does not queue behind clients', async () => {
    const health = await fetch(`${relay.apiUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const ready = await fetch(`${relay.apiUrl}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', info: { redis: { status: 'up' } } });
  });

  it('delivers events published on the API port to sockets of the main port', async () => {
    const echo = fx.client();
    const got = collect(echo, 'split', '.notice');
    await connected(echo);
    await relay.waitForSubscribers('split', 1);
    const api = fx.api('app', 'app-key');
    expect((await api.publish({ channel: 'split', name: 'notice', data: { ok: true } })).status).toBe(200);
    await waitUntil(() => got.length === 1);
    expect(got).toEqual([{ ok: true }]);
    expect((await api.get('/channels/split')).body).toEqual({ subscription_count: 1, occupied: true });
  });
});

describe('stopping a relay with a separate API listener', () => {
  const fx = useFixture({ nodes: 0 });

  it('closes that listener too', async () => {
    const relay = await fx.startNode({ env: { ECHO_RELAY_API_PORT: '0' } });
    expect((await fetch(`${relay.apiUrl}/metrics`)).status).toBe(200);
    await relay.stop();
    await expect(fetch(`${relay.apiUrl}/metrics`)).rejects.toThrow();
  });
});
