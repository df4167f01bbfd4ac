import { validateHeaderName, validateHeaderValue, type IncomingHttpHeaders } from 'node:http';
import { stringHeaders } from '../../common/http-headers.js';
import type { AuthRequest } from '../channel-authorizer.js';

/**
 * Headers a client must never set on the auth call, whatever the config says: they describe our
 * request (its framing and connection), not the user.
 */
const NOT_FORWARDED = new Set([
  'host',
  'content-length',
  'content-type',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'proxy-authorization',
  'proxy-connection',
]);

/**
 * Default of `auth.blockedHeaders`: headers a proxy or framework trusts to say who the client is,
 * where the request came from or which method it really is. Laravel behind `TrustProxies` (or a
 * middleware reading `X-HTTP-Method-Override`) would believe them; coming from a browser through
 * Echo's `auth.headers` they are forgeries, so they are not forwarded.
 */
export const DEFAULT_BLOCKED_HEADERS: readonly string[] = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-real-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-original-url',
  'x-original-host',
  'x-rewrite-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
];

/**
 * Picks the Laravel app to ask. The socket's Origin (or, without one, its Referer) only selects
 * among the configured hosts, compared as `scheme://host:port`; the URL itself is never taken
 * from the client (the old server called whatever host the Referer named). No match: the first.
 */
export function chooseAuthHost(hosts: readonly string[], handshakeHeaders: IncomingHttpHeaders): string {
  const client = originOf(header(handshakeHeaders.origin)) ?? originOf(header(handshakeHeaders.referer));
  if (client && hosts.length > 1) {
    const match = hosts.find((host) => originOf(host) === client);
    if (match) return match;
  }
  return hosts[0];
}

/** `authHost` + `authEndpoint`, with exactly one slash between them. */
export function authUrl(host: string, endpoint: string): string {
  return `${host.replace(/\/+$/, '')}/${endpoint.replace(/^\/+/, '')}`;
}

/** `channel_name=...&socket_id=...`, as Laravel's BroadcastController reads it. */
export function authForm(request: AuthRequest): string {
  return new URLSearchParams({ channel_name: request.channel, socket_id: request.socketId }).toString();
}

/**
 * Headers of the auth call, as laravel-echo-server sent them: the client's `auth.headers` (from
 * the v4 CONNECT payload, overridden by the subscribe's own), the handshake's `Cookie` unless the
 * client gave one, and `X-Requested-With: XMLHttpRequest` so Laravel answers 401/403 rather than
 * redirecting to a login page. Headers that are not valid HTTP, framing and connection headers,
 * and the `blocked` ones (any case; `auth.blockedHeaders`, by default proxy and method-override
 * headers) are left out.
 */
export function forwardedHeaders(
  request: AuthRequest,
  blocked: readonly string[] = DEFAULT_BLOCKED_HEADERS,
): Record<string, string> {
  const out: Record<string, string> = {};
  const names = new Map<string, string>();
  const refused = new Set(blocked.map((name) => name.trim().toLowerCase()));
  const put = (name: string, value: string): void => {
    const lower = name.toLowerCase();
    if (NOT_FORWARDED.has(lower) || refused.has(lower) || !isValidHeader(name, value)) return;
    const previous = names.get(lower);
    if (previous !== undefined) delete out[previous];
    names.set(lower, name);
    out[name] = value;
  };
  for (const [name, value] of Object.entries(stringHeaders(request.handshakeAuth))) put(name, value);
  for (const [name, value] of Object.entries(request.headers)) put(name, value);
  const cookie = header(request.handshakeHeaders.cookie);
  if (!names.has('cookie') && cookie) put('Cookie', cookie);
  put('X-Requested-With', 'XMLHttpRequest');
  out['Content-Type'] = 'application/x-www-form-urlencoded';
  return out;
}

/** `scheme://host[:port]` of a URL, lower-cased with default ports dropped; undefined if not a URL. */
export function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join('; ') : value;
}

function isValidHeader(name: string, value: string): boolean {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}
