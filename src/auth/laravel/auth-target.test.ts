import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import type { AuthRequest } from '../channel-authorizer.js';
import { authConfigSlice } from '../auth.config.js';
import {
  authForm,
  authUrl,
  chooseAuthHost,
  DEFAULT_BLOCKED_HEADERS,
  forwardedHeaders,
  originOf,
} from './auth-target.js';

const HOSTS = ['https://app.test', 'https://admin.app.test:8443', 'http://legacy.test/sub'];

function request(overrides: Partial<AuthRequest> = {}): AuthRequest {
  return {
    channel: 'private-orders.1',
    type: 'private',
    socketId: 'sock-1',
    headers: {},
    handshakeHeaders: {},
    handshakeAuth: {},
    ...overrides,
  };
}

describe('chooseAuthHost', () => {
  it('takes the configured host whose scheme, host and port equal the Origin', () => {
    assert.equal(chooseAuthHost(HOSTS, { origin: 'https://admin.app.test:8443' }), 'https://admin.app.test:8443');
    assert.equal(chooseAuthHost(HOSTS, { origin: 'http://legacy.test' }), 'http://legacy.test/sub');
  });

  it('falls back to the Referer when there is no Origin', () => {
    assert.equal(
      chooseAuthHost(HOSTS, { referer: 'https://admin.app.test:8443/dashboard?x=1' }),
      'https://admin.app.test:8443',
    );
  });

  it('never uses a host the client names that is not configured: the first host', () => {
    for (const origin of [
      'https://evil.test',
      'http://app.test',
      'https://app.test:444',
      'https://admin.app.test',
      'https://admin.app.test:8443.evil.test',
      'null',
      'not a url',
    ]) {
      assert.equal(chooseAuthHost(HOSTS, { origin }), 'https://app.test', origin);
    }
    assert.equal(chooseAuthHost(HOSTS, {}), 'https://app.test');
  });

  it('compares normalised origins (case, default ports)', () => {
    assert.equal(chooseAuthHost(HOSTS, { origin: 'HTTPS://ADMIN.APP.TEST:8443' }), 'https://admin.app.test:8443');
    assert.equal(
      chooseAuthHost(['http://a.test', 'https://b.test:443'], { origin: 'https://b.test' }),
      'https://b.test:443',
    );
  });

  it('with one host, always that host', () => {
    assert.equal(chooseAuthHost(['http://localhost'], { origin: 'https://elsewhere.test' }), 'http://localhost');
  });

  it('originOf ignores what is not a URL', () => {
    assert.equal(originOf('https://a.test/x'), 'https://a.test');
    assert.equal(originOf('file:///etc/passwd'), undefined);
    assert.equal(originOf(undefined), undefined);
  });
});

describe('authUrl and authForm', () => {
  it('joins host and endpoint with one slash', () => {
    assert.equal(authUrl('http://app.test', '/broadcasting/auth'), 'http://app.test/broadcasting/auth');
    assert.equal(authUrl('http://app.test/', 'broadcasting/auth'), 'http://app.test/broadcasting/auth');
    assert.equal(authUrl('http://legacy.test/sub/', '/auth'), 'http://legacy.test/sub/auth');
  });

  it('encodes channel_name and socket_id as a form', () => {
    assert.equal(
      authForm(request({ channel: 'presence-chat.a&b=c', socketId: 'x/y+z' })),
      'channel_name=presence-chat.a%26b%3Dc&socket_id=x%2Fy%2Bz',
    );
  });
});

describe('forwardedHeaders', () => {
  it("forwards the client's auth headers, the handshake cookie and X-Requested-With", () => {
    const headers = forwardedHeaders(
      request({
        headers: { Authorization: 'Bearer t', 'X-CSRF-TOKEN': 'c' },
        handshakeHeaders: { cookie: 'laravel_session=s', origin: 'https://app.test' },
      }),
    );
    assert.deepEqual(headers, {
      Authorization: 'Bearer t',
      'X-CSRF-TOKEN': 'c',
      Cookie: 'laravel_session=s',
      'X-Requested-With': 'XMLHttpRequest',
      'Content-Type': 'application/x-www-form-urlencoded',
    });
  });

  it('keeps a cookie the client gave (any case) instead of the handshake one', () => {
    const headers = forwardedHeaders(
      request({ headers: { cookie: 'mine=1' }, handshakeHeaders: { cookie: 'handshake=1' } }),
    );
    assert.equal(headers.cookie, 'mine=1');
    assert.equal(headers.Cookie, undefined);
  });

  it('uses the v4 CONNECT auth headers, overridden by the subscribe', () => {
    const headers = forwardedHeaders(
      request({
        handshakeAuth: { headers: { Authorization: 'Bearer connect', 'X-Tenant': 't1' } },
        headers: { authorization: 'Bearer subscribe' },
      }),
    );
    assert.equal(headers.authorization, 'Bearer subscribe');
    assert.equal(headers.Authorization, undefined);
    assert.equal(headers['X-Tenant'], 't1');
  });

  it('lets no client set Host, Content-Length, Content-Type or X-Requested-With, nor invalid headers', () => {
    const headers = forwardedHeaders(
      request({
        headers: {
          Host: 'evil.test',
          'Content-Length': '1',
          'content-type': 'application/json',
          'x-requested-with': 'fetch',
          'Transfer-Encoding': 'chunked',
          'X-Injected': 'a\r\nX-Evil: 1',
          'bad header': 'x',
        },
      }),
    );
    assert.deepEqual(headers, {
      'X-Requested-With': 'XMLHttpRequest',
      'Content-Type': 'application/x-www-form-urlencoded',
    });
  });

  // What a browser could forge through Echo's `auth.headers` to make Laravel (behind TrustProxies,
  // or with a method-override middleware) believe another client address, host, URL or method.
  const PROXY_AND_OVERRIDE = [
    'X-Forwarded-For',
    'X-Forwarded-Host',
    'X-Forwarded-Proto',
    'X-Forwarded-Port',
    'X-Forwarded-Prefix',
    'Forwarded',
    'X-Real-IP',
    'X-Original-URL',
    'X-Rewrite-URL',
    'X-HTTP-Method-Override',
    'X-HTTP-Method',
    'X-Method-Override',
    'X-Client-IP',
    'True-Client-IP',
    'CF-Connecting-IP',
    'X-Cluster-Client-IP',
  ];

  it('leaves out proxy and method-override headers by default, in any case, from subscribe and CONNECT', () => {
    const forged = Object.fromEntries(PROXY_AND_OVERRIDE.map((name) => [name, '10.0.0.1']));
    const lower = Object.fromEntries(PROXY_AND_OVERRIDE.map((name) => [name.toLowerCase(), 'x']));
    const upper = Object.fromEntries(PROXY_AND_OVERRIDE.map((name) => [name.toUpperCase(), 'PUT']));
    const headers = forwardedHeaders(
      request({
        headers: { ...forged, 'X-CSRF-TOKEN': 'c', Authorization: 'Bearer t' },
        handshakeAuth: { headers: { ...lower, ...upper, 'X-Tenant': 't1' } },
      }),
    );
    assert.deepEqual(headers, {
      'X-Tenant': 't1',
      'X-CSRF-TOKEN': 'c',
      Authorization: 'Bearer t',
      'X-Requested-With': 'XMLHttpRequest',
      'Content-Type': 'application/x-www-form-urlencoded',
    });
  });

  it('is the default of auth.blockedHeaders, which replaces it; framing headers stay out regardless', () => {
    assert.deepEqual(authConfigSlice.defaults().blockedHeaders, [...DEFAULT_BLOCKED_HEADERS]);
    for (const name of PROXY_AND_OVERRIDE) assert.ok(DEFAULT_BLOCKED_HEADERS.includes(name.toLowerCase()), name);
    const headers = forwardedHeaders(
      request({ headers: { 'X-Forwarded-For': '10.0.0.1', 'x-debug': 'on', Host: 'evil.test' } }),
      ['X-DEBUG ', 'Transfer-Encoding'],
    );
    assert.deepEqual(headers, {
      'X-Forwarded-For': '10.0.0.1',
      'X-Requested-With': 'XMLHttpRequest',
      'Content-Type': 'application/x-www-form-urlencoded',
    });
  });
});
