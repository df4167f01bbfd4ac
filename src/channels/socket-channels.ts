import type { Socket } from 'socket.io';
import type { PresenceMember } from './presence-directory.js';
import type { TokenBucket } from './token-bucket.js';

/** One subscribe to a private or presence channel between its first check and its join. */
export interface SubscribeAttempt {
  /** Set by the guard once the authorizer said yes. */
  authorized: boolean;
  /** The presence member the authorizer named. */
  member?: PresenceMember;
}

/**
 * What this node knows about one socket's channels. An attempt is current only while it is the
 * value in `pending`: an unsubscribe or a disconnect removes it, and a late auth answer then finds
 * itself replaced and joins nothing.
 */
export interface SocketChannels {
  /** Rooms joined through `subscribe`. */
  joined: Set<string>;
  /** Subscribes in flight (auth call, presence store), by channel. */
  pending: Map<string, SubscribeAttempt>;
  /** Presence entries written (or being written) to the store for this socket. */
  presence: Map<string, PresenceMember>;
  /** Whisper allowance, created on the first whisper. */
  whispers?: TokenBucket;
}

const states = new WeakMap<Socket, SocketChannels>();

export function socketChannels(socket: Socket): SocketChannels {
  let state = states.get(socket);
  if (!state) {
    state = { joined: new Set(), pending: new Map(), presence: new Map() };
    states.set(socket, state);
  }
  return state;
}

/** True while `attempt` is still the subscribe in flight for `channel` on a connected socket. */
export function isCurrent(socket: Socket, channel: string, attempt: SubscribeAttempt): boolean {
  return socket.connected && socketChannels(socket).pending.get(channel) === attempt;
}
