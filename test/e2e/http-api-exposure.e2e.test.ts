import assert from 'node:assert/strict';
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
      assert.equal(res.status, 204, origin);
      assert.equal(res.headers.get('access-control-allow-origin'), origin);
      assert.equal(res.headers.get('access-control-allow-methods'), 'GET, POST');
      assert.equal(res.headers.get('access-control-allow-headers'), 'Authorization, Content-Type');
      assert.match(res.headers.get('vary') ?? '', /Origin/);
    }
  });

  it('refuses a preflight from any other origin, without CORS headers', async () => {
    for (const origin of ['https://evil.test', 'http://localhost:8080', 'null']) {
      const res = await preflight(`${relay.apiUrl}/apps/app/events`, origin);
      assert.equal(res.status, 403, origin);
      // fetch's JSON comes from Node's realm, not the spec's: compare by value, not prototype.
      expect(await res.json()).toEqual({ error: 'Origin not allowed' });
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      assert.equal(res.headers.get('access-control-allow-methods'), null);
    }
  });

  it('adds the allow-origin header to real answers, errors included, for allowed origins only', async () => {
    const ok = await fetch(`${relay.apiUrl}/apps/app/status?auth_key=app-key`, {
      headers: { origin: 'https://admin.test' },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://admin.test');
    const denied = await fetch(`${relay.apiUrl}/apps/app/status?auth_key=wrong`, {
      headers: { origin: 'https://admin.test' },
    });
    assert.equal(denied.status, 403);
    assert.equal(denied.headers.get('access-control-allow-origin'), 'https://admin.test');
    const other = await fetch(`${relay.apiUrl}/apps/app/status?auth_key=app-key`, {
      headers: { origin: 'https://evil.test' },
    });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('leaves the health probes without API CORS headers', async () => {
    const res = await fetch(`${relay.url}/health`, { headers: { origin: 'https://admin.test' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
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
    assert.notEqual(relay.apiUrl, relay.url);
    assert.equal((await fetch(`${relay.apiUrl}/apps/app/status?auth_key=app-key`)).status, 200);
    assert.equal((await fetch(`${relay.apiUrl}/metrics`)).status, 200);
    const api = await fetch(`${relay.url}/apps/app/status?auth_key=app-key`);
    assert.equal(api.status, 404);
    assert.doesNotMatch(await api.text(), /app-key/);
    assert.equal((await fetch(`${relay.url}/metrics`)).status, 404);
    const post = await fetch(`${relay.url}/apps/app/events?auth_key=app-key`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"not json',
    });
    assert.equal(post.status, 404, 'refused before the body is read');
  });

  it('keeps /health and /ready on the main port', async () => {
    assert.equal((await fetch(`${relay.url}/health`)).status, 200);
    assert.equal((await fetch(`${relay.url}/ready`)).status, 200);
  });

  it('delivers events published on the API port to sockets of the main port', async () => {
    const echo = fx.client();
    const got = collect(echo, 'split', '.ping');
    await connected(echo);
    await relay.waitForSubscribers('split', 1);
    const api = fx.api('app', 'app-key');
    assert.equal((await api.publish({ channel: 'split', name: 'ping', data: { ok: true } })).status, 200);
    await waitUntil(() => got.length === 1);
    assert.deepEqual(got, [{ ok: true }]);
    assert.deepEqual((await api.get('/channels/split')).body, { subscription_count: 1, occupied: true });
  });
});

describe('stopping a relay with a separate API listener', () => {
  const fx = useFixture({ nodes: 0 });

  it('closes that listener too', async () => {
    const relay = await fx.startNode({ env: { ECHO_RELAY_API_PORT: '0' } });
    assert.equal((await fetch(`${relay.apiUrl}/metrics`)).status, 200);
    await relay.stop();
    await assert.rejects(fetch(`${relay.apiUrl}/metrics`));
  });
});
