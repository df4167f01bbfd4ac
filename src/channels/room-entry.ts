import type { PresenceMember } from './presence-directory.js';

/**
 * Occupancy of any channel, for the `channel_occupied` and `channel_vacated` webhooks, is kept by
 * the presence store as the members of a pseudo channel `room <name>`: one entry per socket of
 * one pseudo user, so the store's atomic first/last decision, its per-node lease and its purge of
 * dead nodes work for it unchanged. The space makes it a name no real channel can have (channel
 * names hold no whitespace), and the scripts recognise it by it.
 */
export const ROOM_PREFIX = 'room ';

/** The one pseudo member of every room entry. */
export const ROOM_MEMBER: PresenceMember = { user_id: '*' };

/** The presence store's name for the occupancy of `channel`. */
export function roomKey(channel: string): string {
  return ROOM_PREFIX + channel;
}

/** Whether a presence store channel is an occupancy entry rather than a presence channel. */
export function isRoomKey(channel: string): boolean {
  return channel.startsWith(ROOM_PREFIX);
}
