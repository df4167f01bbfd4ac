/** One presence member as Echo's `here/joining/leaving` callbacks see it (never a socket id). */
export interface PresenceMember {
  user_id: string | number;
  user_info?: unknown;
}

/**
 * Who is in a presence channel, cluster-wide. The HTTP API reads it; the channels feature
 * provides the Redis-backed implementation under this class as its injection token.
 */
export abstract class PresenceDirectory {
  /** Whether the store answers now (its Redis connection is up); while not, `members` would wait for it. */
  abstract get connected(): boolean;

  /** Distinct users in the channel, each once. */
  abstract members(channel: string): Promise<PresenceMember[]>;
}
