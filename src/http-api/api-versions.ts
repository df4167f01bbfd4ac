import { createHash } from 'node:crypto';
import type { ApiRequest } from './api-request.js';

/** Routes of laravel-echo-server's API: `?auth_key=` or `Authorization: Bearer`. */
export const ECHO_API = 'echo';
/** Routes of Pusher's signed API, on the same paths where the two overlap. */
export const PUSHER_API = 'pusher';

/**
 * Which of the two APIs a request to `/apps/...` is for, as a Nest version (custom versioning):
 * a request carrying `auth_signature` is Pusher's and is verified as such; any other is the old
 * API's. The paths overlap (`/events`, `/channels`, ...) and the answers differ, so the choice
 * is made before routing, once, rather than inside every handler.
 *
 * One exception, `keysWithoutSecret` (see `keyDigest`): laravel-echo-server's README had Laravel's
 * `pusher` broadcaster publish to it with `'secret' => null`, and it checked the `auth_key` alone.
 * A signed request with the key of an app that has no secret (which no signature could be checked
 * against) is the old API's, answered as the old server answered it.
 */
export function apiVersionOf(req: Pick<ApiRequest, 'url'>, keysWithoutSecret?: ReadonlySet<string>): string {
  const url = req.url ?? '';
  const at = url.indexOf('?');
  if (at < 0) return ECHO_API;
  const params = new URLSearchParams(url.slice(at + 1));
  if (![...params.keys()].some((key) => key.toLowerCase() === 'auth_signature')) return ECHO_API;
  const key = params.get('auth_key');
  if (key && keysWithoutSecret?.has(keyDigest(key))) return ECHO_API;
  return PUSHER_API;
}

/** How `keysWithoutSecret` holds keys: as digests, so the lookup's timing tells nothing of a key. */
export function keyDigest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
