import { randomInt } from 'node:crypto';
import type { PresenceMember } from '../channels/presence-directory.js';

/**
 * Pusher's close and error codes (Channels protocol 7): 4000–4099 the client must not reconnect,
 * 4100–4199 it may after backing off, 4200–4299 it should reconnect at once; 4300s are errors
 * that close nothing.
 */
export const PusherCode = {
  /** Unknown app key, or an app without a secret. */
  APP_NOT_FOUND: 4001,
  /** A `protocol` other than 7 in the URL. */
  UNSUPPORTED_PROTOCOL: 4007,
  /** The page's origin is not on the allow-list. */
  ORIGIN_NOT_ALLOWED: 4009,
  /** Closed for the app (`terminate_connections`): Pusher's "unauthorized", no reconnect. */
  UNAUTHORIZED: 4009,
  /**
   * `limits.maxConnections` or `maxConnectionsPerIp` reached, or the connection sent more than
   * `limits.maxMessagesPerSecond`: back off (pusher-js: one second), then try again.
   */
  OVER_CAPACITY: 4100,
  /** Reconnect at once: the node is stopping, or a malformed message was dropped. */
  RECONNECT: 4200,
  /** No `pusher:pong` (or any message) after the server's `pusher:ping`. */
  PONG_TIMEOUT: 4201,
  /** A client event over the whispers rate limit. */
  CLIENT_EVENT_RATE_LIMIT: 4301,
} as const;

/** A socket id in Pusher's `123.456` form, which no socket.io id (20 base64url characters) can be. */
export function newSocketId(): string {
  return `${randomInt(1, 2 ** 47)}.${randomInt(1, 2 ** 47)}`;
}

/**
 * One Pusher frame. `data` is sent as a JSON string, as Pusher servers do (pusher-js parses it);
 * events the relay itself produces pass their data already encoded.
 */
export function pusherFrame(event: string, data: unknown, channel?: string): string {
  const text = typeof data === 'string' ? data : JSON.stringify(data ?? null);
  return JSON.stringify(channel === undefined ? { event, data: text } : { event, channel, data: text });
}

/** A broadcast or client event: the payload is always JSON-encoded, even a string. */
export function channelEventFrame(event: string, channel: string, payload: unknown): string {
  return JSON.stringify({ event, channel, data: JSON.stringify(payload ?? null) });
}

/** `pusher:cache_miss`: nothing is cached for the cache channel just subscribed (it carries no data). */
export function cacheMissFrame(channel: string): string {
  return JSON.stringify({ event: 'pusher:cache_miss', channel });
}

/** `pusher:error`, whose data Pusher sends as an object. */
export function errorFrame(code: number | null, message: string): string {
  return JSON.stringify({ event: 'pusher:error', data: { code, message } });
}

/** `pusher:subscription_error` as pusher-js reports it to `channel.bind('pusher:subscription_error')`. */
export function subscriptionErrorFrame(channel: string, status: number, error: string): string {
  const type = status === 401 || status === 403 ? 'AuthError' : 'SubscriptionError';
  return JSON.stringify({ event: 'pusher:subscription_error', channel, data: { type, error, status } });
}

/** The `presence` object of a presence channel's `pusher_internal:subscription_succeeded`. */
export function presenceData(members: readonly PresenceMember[]): unknown {
  const ids = members.map((m) => String(m.user_id));
  const hash = Object.fromEntries(members.map((m) => [String(m.user_id), m.user_info ?? null]));
  return { presence: { ids, hash, count: ids.length } };
}

/**
 * A socket.io emit of the shared rooms as the Pusher frame of the same event: presence
 * announcements become `pusher_internal:member_*`, everything else (Laravel events, client events)
 * keeps its name. Undefined for emits that are no channel event.
 */
export function frameOfEmit(args: readonly unknown[]): string | undefined {
  const [event, channel, payload] = args;
  if (typeof event !== 'string' || typeof channel !== 'string') return undefined;
  if (event === 'presence:joining' || event === 'presence:leaving') {
    const member = payload as PresenceMember | undefined;
    if (!member || member.user_id === undefined) return undefined;
    return event === 'presence:joining'
      ? pusherFrame(
          'pusher_internal:member_added',
          { user_id: String(member.user_id), user_info: member.user_info ?? null },
          channel,
        )
      : pusherFrame('pusher_internal:member_removed', { user_id: String(member.user_id) }, channel);
  }
  // Echo's socket.io protocol events of its own (`presence:subscribed`), never a channel event.
  if (event.startsWith('presence:')) return undefined;
  return channelEventFrame(event, channel, payload);
}
