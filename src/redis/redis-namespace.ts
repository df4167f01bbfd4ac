/**
 * Names of echo-relay's own keys and channels in Redis, per Laravel prefix (`REDIS_PREFIX`,
 * `databaseConfig.redis.keyPrefix`). Laravel apps that share one Redis set different prefixes, and
 * each app's relays must share their history, sequencer lease, recovery sessions, presence
 * members, webhook queue and cross-node emits with one another and with no other app: a node of one
 * app that read another's history would deliver that app's broadcasts, private channels included,
 * to its own clients.
 *
 * - The prefix goes inside each hash tag, so one app's keys of a kind stay in one Cluster slot
 *   (the scripts touch several of them at once).
 * - No name starts with the prefix: the names that do are Laravel's channels (`<prefix>*`).
 * - Without a prefix the names are the ones echo-relay has always used.
 * - Cache channel keys are the exception to the hash tags: each is read and written alone, so they
 *   are better spread over the Cluster than gathered in one slot.
 */
export interface RedisNames {
  /** Recovery keys: the history stream, the sequencer lease, rescues, sessions. */
  recovery: string;
  /** Where appended history entries are announced to every node of the app. */
  recoveryChannel: string;
  /** Presence members, node registrations and the webhook queue. */
  presence: string;
  /** The socket.io Redis adapter's key: its channels for cross-node emits and requests. */
  adapterKey: string;
  /** The last event of each Pusher cache channel: the channel's name follows. */
  cache: string;
}

export function redisNames(prefix: string): RedisNames {
  return {
    recovery: `echo-relay:{${prefix}recovery}:`,
    recoveryChannel: `echo-relay#${prefix}recovery`,
    presence: `echo-relay:{${prefix}presence}:`,
    adapterKey: prefix === '' ? 'socket.io' : `socket.io#${prefix}`,
    cache: `echo-relay:${prefix}cache:`,
  };
}
