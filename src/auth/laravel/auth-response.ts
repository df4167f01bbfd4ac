import { isPlainObject } from '../../common/plain-object.js';
import type { AuthResult } from '../channel-authorizer.js';

/**
 * Reads Laravel's answer whatever its content type (the broadcaster answers `true` as text/html):
 * 200 allows, and a JSON object's `channel_data` is the presence member. Every other status denies
 * with that status, which is what the client receives in `subscription_error`.
 */
export function interpretAuthResponse(status: number, body: string): AuthResult {
  if (status !== 200) return { outcome: 'denied', status, reason: `auth endpoint answered ${status}` };
  const parsed = parseAuthBody(body);
  return { outcome: 'allowed', status, channelData: isPlainObject(parsed) ? parsed.channel_data : undefined };
}

/** JSON when it is JSON (`true`, `{"channel_data":…}`); otherwise the trimmed text. */
export function parseAuthBody(body: string): unknown {
  const text = body.replace(/^\uFEFF/, '').trim();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
