import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { ApiClientConfig } from '../http-api/api.config.js';

/** How far `auth_timestamp` may be from the server's clock, either way (Pusher's rule). */
export const MAX_CLOCK_SKEW_SECONDS = 600;

/** Why a signed request was refused. Used as a metric label: keep the set small. */
export type SignatureRefusal =
  | 'missing_params'
  | 'unknown_key'
  | 'bad_version'
  | 'expired_timestamp'
  | 'bad_body_md5'
  | 'bad_signature'
  | 'wrong_app';

/** A request as it was signed: raw path and query string, raw body. */
export interface SignedRequest {
  method: string;
  /** The path as sent (not decoded), e.g. `/apps/1/channels/presence-room`. */
  path: string;
  /** The query string as sent, without the `?`. */
  query: string;
  /** The body as received; empty or undefined when there was none. */
  body?: Buffer;
  /** The app id named in the path. */
  appId: string;
}

export type SignatureVerdict =
  { ok: true; client: ApiClientConfig } | { ok: false; status: 401 | 403; reason: SignatureRefusal; message: string };

/**
 * Verifies a request to Pusher's HTTP API the way Pusher does: `auth_key` names an app with a
 * secret, `auth_version` is `1.0`, `auth_timestamp` is within 600 s of `nowSeconds`, `body_md5`
 * is the MD5 of the raw body, and `auth_signature` is the hex HMAC-SHA256, keyed with the app's
 * secret, of `METHOD\nPATH\nQUERY` where QUERY is every other parameter, keys lower-cased, sorted,
 * joined as `key=value&...` with values decoded. The signature is compared in constant time; the
 * app id in the path is checked last, so only a caller holding the secret learns that its key
 * belongs to another app.
 */
export function verifySignature(
  request: SignedRequest,
  clients: readonly ApiClientConfig[],
  nowSeconds: number,
): SignatureVerdict {
  const params = readParams(request.query);
  if (!params) return refuse(401, 'missing_params', 'a query parameter is repeated');
  const key = params.get('auth_key');
  const timestamp = params.get('auth_timestamp');
  const signature = params.get('auth_signature');
  if (!key || !timestamp || !signature) {
    return refuse(401, 'missing_params', 'auth_key, auth_timestamp and auth_signature are required');
  }
  // A plain lookup: with Pusher the key is public (pusher-js sends it in its URL); the secret is not,
  // and only the signature made with it is compared in constant time.
  const client = clients.find((c) => c.key === key && c.secret);
  if (!client?.secret) return refuse(401, 'unknown_key', 'Unknown auth_key');
  if (params.get('auth_version') !== '1.0') return refuse(401, 'bad_version', 'auth_version must be 1.0');
  const sent = Number(timestamp);
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowSeconds - sent) > MAX_CLOCK_SKEW_SECONDS) {
    return refuse(
      401,
      'expired_timestamp',
      `Timestamp expired: Given timestamp (${timestamp.slice(0, 20)}) not within ${MAX_CLOCK_SKEW_SECONDS}s of server time (${nowSeconds})`,
    );
  }
  const body = request.body ?? Buffer.alloc(0);
  const bodyMd5 = params.get('body_md5');
  if ((body.length > 0 || bodyMd5 !== undefined) && bodyMd5 !== md5(body)) {
    return refuse(401, 'bad_body_md5', 'body_md5 does not match the MD5 of the request body');
  }
  const expected = createHmac('sha256', client.secret).update(stringToSign(request, params)).digest('hex');
  if (!sameHex(signature, expected)) return refuse(401, 'bad_signature', 'Invalid signature');
  if (client.appId !== request.appId) {
    return refuse(403, 'wrong_app', `auth_key does not belong to app "${request.appId.slice(0, 50)}"`);
  }
  return { ok: true, client };
}

/** What the caller signed: `METHOD\nPATH\nsorted query without auth_signature`. */
export function stringToSign(request: Pick<SignedRequest, 'method' | 'path'>, params: Map<string, string>): string {
  const query = [...params]
    .filter(([key]) => key !== 'auth_signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  return `${request.method.toUpperCase()}\n${request.path}\n${query}`;
}

/** Query parameters, keys lower-cased; undefined when a key is repeated (its signed value would be ambiguous). */
export function readParams(query: string): Map<string, string> | undefined {
  const params = new Map<string, string>();
  for (const [rawKey, value] of new URLSearchParams(query)) {
    const key = rawKey.toLowerCase();
    if (params.has(key)) return undefined;
    params.set(key, value);
  }
  return params;
}

function md5(body: Buffer): string {
  return createHash('md5').update(body).digest('hex');
}

/** Constant-time comparison; the expected length is fixed (64 hex digits), so checking it first leaks nothing. */
function sameHex(given: string, expected: string): boolean {
  const a = Buffer.from(given.toLowerCase(), 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

function refuse(status: 401 | 403, reason: SignatureRefusal, message: string): SignatureVerdict {
  return { ok: false, status, reason, message };
}
