import type { IncomingHttpHeaders } from 'node:http';
import type { ChannelType } from '../channels/channel-type.js';

/** Everything an authorizer may look at for one `subscribe` to a private or presence channel. */
export interface AuthRequest {
  /** Channel name exactly as subscribed, e.g. `private-orders.7`. */
  channel: string;
  type: ChannelType;
  /** `socket.id`: what Laravel knows as `socket_id` / `X-Socket-ID`. */
  socketId: string;
  /** The subscribe's `auth.headers` (Echo's `auth.headers`: `Authorization`, `X-CSRF-TOKEN`, ...). */
  headers: Record<string, string>;
  /** Headers of the socket's handshake request (`Cookie`, `Origin`, `Referer`, ...). */
  handshakeHeaders: IncomingHttpHeaders;
  /** The socket.io v4 CONNECT payload (`{headers}` from Echo, or `{token}`); `{}` for v2 clients. */
  handshakeAuth: Record<string, unknown>;
  /**
   * Aborted when the subscribe is taken back (an unsubscribe, a disconnect): a call still waiting
   * for a slot is never made, one in flight is cut off, and the answer is `abandoned`.
   */
  signal?: AbortSignal;
}

/**
 * Metric label of an authorisation: `denied` is a clean "no", `error`/`timeout` a failed call,
 * `abandoned` a call its subscribe no longer wanted (not made, or cut off).
 */
export type AuthOutcome = 'allowed' | 'denied' | 'error' | 'timeout' | 'abandoned';

/** What an authorizer answers. `status` is the HTTP status the client sees (0: the call failed). */
export type AuthResult =
  | {
      outcome: 'allowed';
      status: number;
      /** For presence channels: `{user_id, user_info}` (Laravel's `channel_data`). */
      channelData?: unknown;
    }
  | { outcome: 'denied' | 'error' | 'timeout' | 'abandoned'; status: number; reason: string };

/**
 * Decides whether a socket may join a private or presence channel. The driver (`auth.driver`)
 * picks the implementation bound to this token; `ChannelAuthService` only sees this interface.
 */
export abstract class ChannelAuthorizer {
  /** Never rejects for an ordinary failure: a failed call is an `error` or `timeout` result. */
  abstract authorize(request: AuthRequest): Promise<AuthResult>;
}

export function denied(status: number, reason: string): AuthResult {
  return { outcome: 'denied', status, reason };
}
