import type { Logger } from '@nestjs/common';
import type { RedisOptions } from 'ioredis';
import { withTimeout } from '../common/with-timeout.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import type { RedisConfig } from './redis.config.js';
import { createRedisClient, reconnectDelay, type RedisClient } from './redis-options.js';

/**
 * How long a connection may fail before it is worth a warning: longer than a failover (Sentinel
 * promotes a replica after `down-after-milliseconds` plus an election, a Cluster after
 * `cluster-node-timeout` plus one) with the timeouts set as the README recommends. Shorter
 * outages are logged at debug: every command path rides through them.
 */
export const QUIET_OUTAGE_MS = 10_000;

/** Reconnect attempts made every `FAILOVER_RETRY_MS` behind Sentinel before backing off. */
const FAILOVER_RETRIES = 40;
const FAILOVER_RETRY_MS = 250;

/**
 * Reconnect delay behind Sentinel. Each attempt asks a sentinel for the master, so the first
 * attempt after the promotion reaches the new master: attempts every 250 ms for the first 10 s
 * cost one sentinel question each and lose at most 250 ms after a failover, where the backoff of
 * `reconnectDelay` would lose up to 5 s. Past that, Redis is away for longer than a failover.
 */
export function sentinelReconnectDelay(times: number): number {
  return times <= FAILOVER_RETRIES ? FAILOVER_RETRY_MS : reconnectDelay(times - FAILOVER_RETRIES);
}

/**
 * A command connection for the configured topology (one Redis, Sentinel or Cluster) that never
 * gives up reconnecting and never lets an 'error' event go unhandled (that would crash the
 * process). Errors are warned about only once the connection has failed for `QUIET_OUTAGE_MS`.
 * `extra` wins over the config.
 */
export function connectRedis(config: RedisConfig, role: string, log: Logger, extra: RedisOptions = {}): RedisClient {
  const retryStrategy = config.sentinels.length > 0 ? sentinelReconnectDelay : reconnectDelay;
  const client = createRedisClient(config, role, { retryStrategy, ...extra });
  const outage = new OutageLog(log, role);
  client.on('error', (err: Error) => outage.failed(err));
  client.on('ready', () => outage.ended());
  return client;
}

/** The errors of one connection: debug while it has failed for less than `QUIET_OUTAGE_MS`, then throttled warnings. */
class OutageLog {
  private readonly throttled: ThrottledLog;
  /** When the connection first failed since it was last ready. */
  private since?: number;
  private warned = false;

  constructor(
    private readonly log: Logger,
    private readonly role: string,
  ) {
    this.throttled = new ThrottledLog(log);
  }

  failed(err: Error): void {
    const now = Date.now();
    this.since ??= now;
    if (isUnreachable(err) && now - this.since < QUIET_OUTAGE_MS) {
      this.log.debug(`Redis (${this.role}) error: ${err.message}`);
      return;
    }
    this.warned = true;
    this.throttled.warn(
      'error',
      `Redis (${this.role}) error for ${Math.round((now - this.since) / 1000)} s: ${err.message}`,
    );
  }

  ended(): void {
    if (this.warned) this.log.log(`Redis (${this.role}) reachable again`);
    this.since = undefined;
    this.warned = false;
  }
}

/**
 * Redis not answering (refused, reset, timed out, no sentinel or cluster node reachable), as
 * during a failover; anything else (a refused password, say) is worth a warning at once.
 */
function isUnreachable(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return (
    (typeof code === 'string' && code.startsWith('E')) ||
    /sentinels are unreachable|refresh slots cache|Connection is closed/i.test(err.message)
  );
}

/**
 * How long a QUIT may wait for its answer: a connection that is up to a Redis that answers nothing
 * (frozen, or cut off by a partition TCP has not noticed) would hold a graceful stop until its hard
 * limit, and a stop closes several, one module after another. A live Redis answers at once, after
 * the commands sent before it; dropping the connection still delivers those (it is ended, not reset).
 */
const QUIT_TIMEOUT_MS = 500;

/** QUIT, or drop the connection when Redis is not there to answer, or does not answer in time. */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') return dropRedisClient(client);
  await withTimeout(client.quit(), QUIT_TIMEOUT_MS).catch(() => dropRedisClient(client));
}

/**
 * Drops the connection at once. One that has ended already is left alone: disconnecting it again
 * arms ioredis's 2 s stream-close timer, which keeps the process alive after everything closed.
 */
export function dropRedisClient(client: RedisClient): void {
  if (client.status !== 'end') client.disconnect();
}
