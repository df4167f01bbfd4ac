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
 */
export function apiVersionOf(req: Pick<ApiRequest, 'url'>): string {
  return hasSignature(req.url ?? '') ? PUSHER_API : ECHO_API;
}

function hasSignature(url: string): boolean {
  const at = url.indexOf('?');
  if (at < 0) return false;
  for (const key of new URLSearchParams(url.slice(at + 1)).keys())
    if (key.toLowerCase() === 'auth_signature') return true;
  return false;
}
