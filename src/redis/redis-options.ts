import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisConfig } from './redis.config.js';

/** A connection to whichever topology is configured: one Redis, Sentinel-managed, or a Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * ioredis options for every connection echo-relay opens. A URL wins over host/port/password/db;
 * `rediss://` or `tls: true` turns TLS on (with certificate verification unless the old file's
 * `tls` object says otherwise); sentinels switch to
 * Sentinel discovery of the master.
 */
function redisOptions(config: RedisConfig, role = 'subscriber'): RedisOptions {
  const base: RedisOptions = {
    // Named connections make `CLIENT LIST` on a shared Redis readable for operators.
    connectionName: `echo-relay:${role}`,
    host: config.host,
    port: config.port,
    username: config.username || undefined,
    password: config.password || undefined,
    db: config.db,
    ...(config.tls ? { tls: {} } : {}),
  };
  if (config.url) Object.assign(base, fromUrl(config.url));
  if (config.sentinels.length > 0) {
    Object.assign(base, {
      sentinels: config.sentinels.map((s) => (typeof s === 'string' ? hostPort(s) : s)),
      name: config.sentinelName,
      sentinelPassword: config.sentinelPassword || undefined,
    });
  }
  // The old file's TLS options object (see `redisConfigSlice.fromLegacyFile`) applies only while TLS is on.
  const { tls, ...options } = config.options as RedisOptions;
  return { ...base, ...options, ...(config.tls && tls ? { tls } : {}) };
}

/** Pause before a Cluster command is retried after its node went away or the Cluster was down. */
const CLUSTER_RETRY_MS = 250;
/** How long a Cluster command waits for a failover to end. */
const CLUSTER_FAILOVER_WAIT_MS = 20_000;

/**
 * How long a script that must not run twice remembers a call that ran (a key per call): ioredis
 * sends a command again when its connection closed before the reply (on reconnect; a Cluster client
 * on the new master, for up to `CLUSTER_FAILOVER_WAIT_MS`), although Redis may have run it, and its
 * effects reached the replica, before the master died.
 */
export const CALL_MEMORY_MS = 3 * CLUSTER_FAILOVER_WAIT_MS;

/**
 * Opens a client for the configured topology; `extra` (e.g. lazyConnect, retryStrategy) applies to every node.
 *
 * A command issued while Redis fails over must wait for the promoted replica, not fail at once:
 * - Sentinel: commands wait in ioredis's offline queue while it reconnects, each attempt asking a
 *   sentinel for the master (the caller's `retryStrategy` paces them, `maxRetriesPerRequest` says
 *   how many a command waits). No `failoverDetector`: the sentinels themselves kill the clients
 *   of every instance they reconfigure, and the detector would hold sentinel connections per client.
 * - Cluster: a command whose node is gone is retried every `retryDelayOnFailover` (refreshing the
 *   slots), one refused during the failover (`CLUSTERDOWN`) every `retryDelayOnClusterDown`, each
 *   retry and each MOVED redirection counting against `maxRedirections`. ioredis's defaults (16,
 *   100 ms) give up after about 1.6 s, before any failover ends ("Too many Cluster redirections").
 *   While a master is down, a retry goes to the dead node and back to a replica that redirects it
 *   there again: two redirections per 250 ms, so 160 cover about 20 s, a failover with Redis's
 *   default `cluster-node-timeout` (15 s) and its election. A Cluster that is really gone still
 *   fails commands then; readiness does not wait for them (it follows the subscriptions).
 */
export function createRedisClient(config: RedisConfig, role: string, extra: RedisOptions = {}): RedisClient {
  const options = { ...redisOptions(config, role), ...extra };
  if (config.clusterNodes.length === 0) return new Redis(options);
  const { retryStrategy, lazyConnect, ...perNode } = options;
  const clusterOptions: ClusterOptions = {
    redisOptions: perNode,
    lazyConnect,
    clusterRetryStrategy: retryStrategy ? (times: number) => retryStrategy(times) ?? null : undefined,
    retryDelayOnFailover: CLUSTER_RETRY_MS,
    retryDelayOnClusterDown: CLUSTER_RETRY_MS,
    maxRedirections: Math.ceil((2 * CLUSTER_FAILOVER_WAIT_MS) / CLUSTER_RETRY_MS),
  };
  return new Cluster(config.clusterNodes.map(hostPort), clusterOptions);
}

/**
 * Options for a direct connection to one data node found through Sentinel or a Cluster: the
 * credentials, TLS and pass-through options of the config, without the Sentinel discovery.
 */
export function nodeOptions(config: RedisConfig, role: string): RedisOptions {
  const direct = redisOptions(config, role);
  delete direct.sentinels;
  delete direct.name;
  delete direct.sentinelPassword;
  return direct;
}

function fromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '');
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    username: decodeURIComponent(parsed.username) || undefined,
    password: decodeURIComponent(parsed.password) || undefined,
    db: db ? Number(db) : 0,
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

export function hostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return at > 0 ? { host: address.slice(0, at), port: Number(address.slice(at + 1)) } : { host: address, port: 6379 };
}

/** Delay before reconnect attempt `times`: exponential from 100 ms, capped at 5 s, with jitter. */
export function reconnectDelay(times: number): number {
  const capped = Math.min(100 * 2 ** Math.min(times, 10), 5_000);
  return Math.round(capped / 2 + (Math.random() * capped) / 2);
}
