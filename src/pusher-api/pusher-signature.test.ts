import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import Pusher from 'pusher';
import { verifySignature, type SignedRequest } from './pusher-signature.js';

const CLIENTS = [
  { appId: 'shop', key: 'shop-key', secret: 'shop-secret' },
  { appId: 'blog', key: 'blog-key', secret: 'blog-secret' },
  { appId: 'legacy', key: 'legacy-key' },
];

/** A request signed by the official SDK, as it would send it (its clock: now). */
function signed(
  options: { method?: string; path?: string; params?: Record<string, string>; body?: string; secret?: string } = {},
): SignedRequest {
  const { method = 'GET', path = '/apps/shop/channels', params, body, secret = 'shop-secret' } = options;
  const pusher = new Pusher({ appId: 'shop', key: 'shop-key', secret, host: '127.0.0.1' });
  const query = pusher.createSignedQueryString({ method, path, params, body });
  return { method, path, query, body: body === undefined ? undefined : Buffer.from(body), appId: 'shop' };
}

const now = (): number => Math.floor(Date.now() / 1000);
const verify = (request: SignedRequest, at = now()) => verifySignature(request, CLIENTS, at);
const reason = (request: SignedRequest, at = now()) => {
  const verdict = verify(request, at);
  return verdict.ok ? 'ok' : `${verdict.status} ${verdict.reason}`;
};

describe('verifySignature', () => {
  it("accepts GET and POST requests signed by Pusher's SDK", () => {
    expect(verify(signed({ params: { filter_by_prefix: 'presence-', info: 'user_count' } }))).toEqual({
      ok: true,
      client: CLIENTS[0],
    });
    const body = JSON.stringify({ name: 'e', data: '{"a":1}', channels: ['orders'] });
    expect(reason(signed({ method: 'POST', path: '/apps/shop/events', body }))).toBe('ok');
  });

  it('refuses a request whose method, path or parameters differ from what was signed', () => {
    expect(reason({ ...signed(), method: 'POST' })).toBe('401 bad_signature');
    expect(reason({ ...signed(), path: '/apps/shop/channels/x' })).toBe('401 bad_signature');
    const request = signed({ params: { filter_by_prefix: 'presence-' } });
    expect(reason({ ...request, query: request.query.replace('presence-', 'private-') })).toBe('401 bad_signature');
    expect(reason({ ...request, query: `${request.query}&extra=1` })).toBe('401 bad_signature');
  });

  it('refuses a signature made with another secret', () => {
    expect(reason(signed({ secret: 'not-the-secret' }))).toBe('401 bad_signature');
  });

  it('refuses a body that is not the one whose MD5 was signed, or a body without body_md5', () => {
    const request = signed({ method: 'POST', path: '/apps/shop/events', body: '{"name":"e"}' });
    expect(reason({ ...request, body: Buffer.from('{"name":"f"}') })).toBe('401 bad_body_md5');
    expect(reason({ ...signed({ method: 'POST', path: '/apps/shop/events' }), body: Buffer.from('{}') })).toBe(
      '401 bad_body_md5',
    );
  });

  it('accepts a timestamp up to 600 s away from the server clock, either way, and refuses one further', () => {
    const request = signed();
    const sent = Number(new URLSearchParams(request.query).get('auth_timestamp'));
    expect(reason(request, sent + 600)).toBe('ok');
    expect(reason(request, sent - 600)).toBe('ok');
    expect(reason(request, sent + 601)).toBe('401 expired_timestamp');
    expect(reason(request, sent - 601)).toBe('401 expired_timestamp');
  });

  it('refuses an unknown key, and the key of an app without a secret', () => {
    const request = signed();
    expect(reason({ ...request, query: request.query.replace('auth_key=shop-key', 'auth_key=nobody') })).toBe(
      '401 unknown_key',
    );
    expect(reason({ ...request, query: request.query.replace('auth_key=shop-key', 'auth_key=legacy-key') })).toBe(
      '401 unknown_key',
    );
  });

  it("refuses with 403 a valid signature of another app's key", () => {
    expect(reason({ ...signed(), appId: 'blog' })).toBe('403 wrong_app');
  });

  it('refuses a missing parameter, another auth_version, and a repeated parameter', () => {
    const request = signed();
    const without = (name: string): string =>
      request.query
        .split('&')
        .filter((p) => !p.startsWith(`${name}=`))
        .join('&');
    for (const name of ['auth_key', 'auth_timestamp', 'auth_signature']) {
      expect(reason({ ...request, query: without(name) })).toBe('401 missing_params');
    }
    expect(reason({ ...request, query: request.query.replace('auth_version=1.0', 'auth_version=2.0') })).toBe(
      '401 bad_version',
    );
    expect(reason({ ...request, query: `${request.query}&auth_key=shop-key` })).toBe('401 missing_params');
  });

  it('signs keys lower-cased and sorted, values decoded, as the server libraries of other languages send them', () => {
    const ts = String(now());
    const toSign = `GET\n/apps/shop/channels\nauth_key=shop-key&auth_timestamp=${ts}&auth_version=1.0&filter_by_prefix=a b&info=user_count`;
    const signature = createHmac('sha256', 'shop-secret').update(toSign).digest('hex');
    const query = `Info=user_count&filter_by_prefix=a+b&auth_version=1.0&auth_timestamp=${ts}&auth_key=shop-key&auth_signature=${signature}`;
    expect(reason({ method: 'GET', path: '/apps/shop/channels', query, appId: 'shop' })).toBe('ok');
    expect(reason({ method: 'get', path: '/apps/shop/channels', query, appId: 'shop' })).toBe('ok');
  });
});
