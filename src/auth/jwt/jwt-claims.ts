import { bearerToken } from '../../common/http-headers.js';
import { isPlainObject } from '../../common/plain-object.js';
import type { AuthRequest } from '../channel-authorizer.js';

/** Longest token accepted; anything longer is not a session token. */
const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * The token of a subscribe: the subscribe's `Authorization: Bearer` header (Echo's
 * `auth.headers`), else the CONNECT payload's `auth.token`, else its `auth.headers.Authorization`.
 */
export function findToken(request: AuthRequest): string | undefined {
  const connectHeaders = isPlainObject(request.handshakeAuth.headers) ? request.handshakeAuth.headers : {};
  const candidates = [
    stringToken(bearerToken(headerValue(request.headers, 'authorization'))),
    stringToken(request.handshakeAuth.token),
    stringToken(bearerToken(headerValue(connectHeaders, 'authorization'))),
  ];
  return candidates.find((token) => token !== undefined);
}

/**
 * Whether a granted pattern covers a channel name. `*` matches within one dot-separated segment
 * (like `{id}` in Laravel's channels.php), `**` matches across segments; everything else is literal.
 */
export function channelPatternMatches(pattern: string, channel: string): boolean {
  return patternRegExp(pattern).test(channel);
}

/** Whether the claim named `claim` (an array of patterns, or one pattern) grants the channel. */
export function grantsChannel(claims: Record<string, unknown>, claim: string, channel: string): boolean {
  const granted = claims[claim];
  const patterns = typeof granted === 'string' ? [granted] : Array.isArray(granted) ? granted : [];
  return patterns.some((p) => typeof p === 'string' && channelPatternMatches(p, channel));
}

/** Presence data from the claims: `user_id` (else `sub`) and the `user_info` claim. */
export function channelDataFromClaims(claims: Record<string, unknown>, userInfoClaim: string): unknown {
  const id = claims.user_id ?? claims.sub;
  if (id === undefined) return undefined;
  return { user_id: id, user_info: claims[userInfoClaim] ?? null };
}

const compiled = new Map<string, RegExp>();

function patternRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    const body = pattern
      .split('**')
      .map((part) =>
        part
          .split('*')
          .map((literal) => literal.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&'))
          .join('[^.]*'),
      )
      .join('.*');
    re = new RegExp(`^${body}$`);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

function headerValue(headers: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

function stringToken(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TOKEN_LENGTH ? value : undefined;
}
