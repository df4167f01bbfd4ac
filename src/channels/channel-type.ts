/** What a channel name says about who may join it. */
export type ChannelType = 'public' | 'private' | 'presence' | 'private-encrypted';

/**
 * The one place that maps a channel name to its type. Prefixes are anchored at the start: the old
 * server's unanchored regex treated `orders-private-x` as private.
 */
export function channelType(name: string): ChannelType {
  if (name.startsWith('presence-')) return 'presence';
  if (name.startsWith('private-encrypted-')) return 'private-encrypted';
  if (name.startsWith('private-')) return 'private';
  return 'public';
}

/**
 * Pusher's cache channels: `cache-*`, `private-cache-*`, `private-encrypted-cache-*` and
 * `presence-cache-*`. The cache is a feature on top of the type, which `channelType` reads as it
 * does without it (pusher-js does the same): `private-cache-x` is authorised as a private channel.
 */
export function isCacheChannel(name: string): boolean {
  return /^(?:private-encrypted-|private-|presence-)?cache-/.test(name);
}

/** Pusher's channel of one signed-in user: `sendToUser` publishes on it, `pusher-js` joins it after `signin`. */
export const SERVER_TO_USER_PREFIX = '#server-to-user-';

/**
 * The user whose channel `name` is (`#server-to-user-<id>`), or undefined for any other channel.
 * Only a Pusher connection signed in as that user may join it: read as a public channel, it would
 * hand a user's events to anyone who asked.
 */
export function serverToUserId(name: string): string | undefined {
  if (!name.startsWith(SERVER_TO_USER_PREFIX) || name.length === SERVER_TO_USER_PREFIX.length) return undefined;
  return name.slice(SERVER_TO_USER_PREFIX.length);
}

/** Private, encrypted and presence channels need the app's permission to join. */
export function requiresAuthorization(name: string): boolean {
  return channelType(name) !== 'public';
}

/** Longest channel name accepted from a client or publisher. */
export const MAX_CHANNEL_LENGTH = 200;

/**
 * What makes `name` unusable as a channel name, in a few words, or undefined when it is usable: not
 * empty, bounded, no control characters or spaces, and well-formed Unicode. Laravel channel names
 * such as `App.Models.User.1` or `orders.42` all pass. (Its room: `channelRoom`.)
 *
 * A lone UTF-16 surrogate (JSON can carry one, `"\ud800"`) names no room that survives the trip
 * through UTF-8: the Redis adapter would deliver to `U+FFFD` on the other nodes, a URL path cannot
 * hold it, and Redis channel names are bytes. It is refused wherever a name comes in.
 */
export function channelNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'not a string';
  if (name.length === 0) return 'empty';
  if (name.length > MAX_CHANNEL_LENGTH) return `longer than ${MAX_CHANNEL_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(name)) return 'one with spaces or control characters';
  if (!name.isWellFormed()) return 'not well-formed Unicode (it holds a lone UTF-16 surrogate)';
  return undefined;
}

/** A usable channel name (see `channelNameProblem`). */
export function isValidChannelName(name: unknown): name is string {
  return channelNameProblem(name) === undefined;
}
