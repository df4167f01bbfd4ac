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

/** Private, encrypted and presence channels need the app's permission to join. */
export function requiresAuthorization(name: string): boolean {
  return channelType(name) !== 'public';
}

/** Longest channel name accepted from a client or publisher. */
export const MAX_CHANNEL_LENGTH = 200;

/**
 * A usable channel name: not empty, bounded, no control characters or spaces. Laravel channel
 * names such as `App.Models.User.1` or `orders.42` all pass. (Its room: `channelRoom`.)
 */
export function isValidChannelName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    name.length <= MAX_CHANNEL_LENGTH &&
    // eslint-disable-next-line no-control-regex
    !/[\s\u0000-\u001f\u007f]/.test(name)
  );
}
