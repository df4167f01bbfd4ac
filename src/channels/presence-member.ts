import { isPlainObject } from '../common/plain-object.js';
import type { PresenceMember } from './presence-directory.js';

/** Longest `user_id` accepted as a string; longer ones are not ids. */
export const MAX_USER_ID_LENGTH = 191;

/**
 * The member a presence subscribe adds, from Laravel's `channel_data` (an object, or a JSON string
 * as Pusher-style apps send it) or a JWT's claims. Only `user_id` and `user_info` are kept.
 * Undefined when there is no usable `user_id`.
 */
export function toPresenceMember(channelData: unknown): PresenceMember | undefined {
  const data = typeof channelData === 'string' ? parseJson(channelData) : channelData;
  if (!isPlainObject(data)) return undefined;
  const id = data.user_id;
  const usable =
    (typeof id === 'number' && Number.isFinite(id)) ||
    (typeof id === 'string' && id.length > 0 && id.length <= MAX_USER_ID_LENGTH);
  if (!usable) return undefined;
  return { user_id: id, user_info: data.user_info ?? null };
}

/** One key per user, so two tabs of user 42 count as one member. */
export function userKey(member: PresenceMember): string {
  return String(member.user_id);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
