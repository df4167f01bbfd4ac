import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../redis/redis.config.js';
import { dropRedisClient } from '../redis/redis-client.js';
import { createRedisClient, hostPort, nodeOptions, type RedisClient } from '../redis/redis-options.js';
import { withTimeout } from '../common/with-timeout.js';

/** A Redis data node to hold a Laravel subscription on. */
export interface SubscriptionTarget {
  /** `host:port`, or `redis` for the single configured Redis. */
  address: string;
  role: 'redis' | 'master' | 'replica';
}

/**
 * Where the Laravel subscriptions of one node go: which data nodes, and how to connect to one.
 * Single Redis: the one server, for ever. Sentinel: the master and every replica, since a master
 * replicates its pub/sub to them. Cluster: every master (see `CLUSTER_MASTERS`).
 */
export interface SubscriptionPlan {
  /** True when one subscription is the whole plan (no merging, no re-planning). */
  readonly single: boolean;
  /**
   * The targets to hold now. `avoid` are those that just failed (taken only when nothing else is
   * left). Rejects when the topology cannot be read (every sentinel or Cluster node unreachable).
   */
  targets(avoid: ReadonlySet<string>): Promise<SubscriptionTarget[]>;
  /** A connection to `target` with `extra` ioredis options. */
  connect(target: SubscriptionTarget, extra: RedisOptions): RedisClient;
  close(): Promise<void>;
}

/**
 * Cluster: a subscription on every master, up to this many. A publish reaches the other nodes over
 * the bus, whose links are not ordered with each other, but its own master hands it to local
 * subscribers at once: holding every master keeps a sequential publisher's order (Laravel's
 * script names no key, so its publishes land on any master), and any one master's death costs
 * nothing while the others carry on.
 */
const CLUSTER_MASTERS = 8;
/** Sentinel: the master and up to this many replicas. */
const SENTINEL_REPLICAS = 3;
/** How long a topology query may take before the next sentinel or node is asked. */
const QUERY_TIMEOUT_MS = 1_000;

export function subscriptionPlan(config: RedisConfig): SubscriptionPlan {
  if (config.clusterNodes.length > 0) return new ClusterPlan(config);
  if (config.sentinels.length > 0) return new SentinelPlan(config);
  return singleRedisPlan((extra) => createRedisClient(config, 'subscriber', extra));
}

/** One subscription through `connect`, retried for ever. */
export function singleRedisPlan(connect: (extra: RedisOptions) => RedisClient): SubscriptionPlan {
  return new SingleRedisPlan(connect);
}

class SingleRedisPlan implements SubscriptionPlan {
  readonly single = true;
  constructor(private readonly connectTo: (extra: RedisOptions) => RedisClient) {}

  targets(): Promise<SubscriptionTarget[]> {
    return Promise.resolve([{ address: 'redis', role: 'redis' }]);
  }

  connect(_target: SubscriptionTarget, extra: RedisOptions): RedisClient {
    return this.connectTo(extra);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Plans over data nodes reached directly by address, found by asking some other server. */
abstract class DiscoveredPlan implements SubscriptionPlan {
  readonly single = false;
  /** Who to ask, the one that answered last first. */
  protected sources: string[];
  private asking?: { address: string; client: Redis };

  constructor(
    protected readonly config: RedisConfig,
    sources: readonly string[],
  ) {
    this.sources = [...sources];
  }

  abstract targets(avoid: ReadonlySet<string>): Promise<SubscriptionTarget[]>;

  connect(target: SubscriptionTarget, extra: RedisOptions): RedisClient {
    return new Redis({ ...nodeOptions(this.config, 'subscriber'), ...hostPort(target.address), ...extra });
  }

  close(): Promise<void> {
    if (this.asking) dropRedisClient(this.asking.client);
    this.asking = undefined;
    return Promise.resolve();
  }

  /** Options for the connections that ask (sentinels need their own password). */
  protected abstract askOptions(): RedisOptions;

  /** Runs `query` on the first source that answers, which is asked first next time. */
  protected async ask<T>(query: (client: Redis) => Promise<T>): Promise<T> {
    let last: unknown = new Error('nothing to ask');
    for (const address of [...this.sources]) {
      try {
        const client = await this.client(address);
        const result = await withTimeout(query(client), QUERY_TIMEOUT_MS);
        this.sources = [address, ...this.sources.filter((s) => s !== address)];
        return result;
      } catch (err) {
        last = err;
        if (this.asking?.address === address) dropRedisClient(this.asking.client);
        this.asking = undefined;
      }
    }
    throw last;
  }

  private async client(address: string): Promise<Redis> {
    if (this.asking?.address === address && this.asking.client.status === 'ready') return this.asking.client;
    if (this.asking) dropRedisClient(this.asking.client);
    const client = new Redis({
      ...this.askOptions(),
      ...hostPort(address),
      lazyConnect: true,
      connectTimeout: QUERY_TIMEOUT_MS,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    client.on('error', () => undefined);
    this.asking = { address, client };
    await client.connect();
    return client;
  }
}

class SentinelPlan extends DiscoveredPlan {
  constructor(config: RedisConfig) {
    super(
      config,
      config.sentinels.map((s) => (typeof s === 'string' ? s : `${s.host}:${s.port}`)),
    );
  }

  protected askOptions(): RedisOptions {
    return { password: this.config.sentinelPassword || undefined, connectionName: 'echo-relay:discovery' };
  }

  async targets(avoid: ReadonlySet<string>): Promise<SubscriptionTarget[]> {
    const name = this.config.sentinelName;
    const { master, replicas } = await this.ask(async (sentinel) => {
      const addr = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string] | null;
      if (!addr) throw new Error(`no master named "${name}" on the sentinels`);
      const rows = (await sentinel.call('SENTINEL', 'REPLICAS', name)) as string[][];
      return { master: `${addr[0]}:${addr[1]}`, replicas: rows.map(fields) };
    });
    const healthy = replicas
      // A replica whose link to a dead master is down is still the one to hold: it may be promoted.
      .filter((r) => !/s_down|o_down|disconnected/.test(r.flags ?? ''))
      .map((r): SubscriptionTarget => ({ address: `${r.ip}:${r.port}`, role: 'replica' }))
      .filter((r) => r.address !== master)
      .sort((a, b) => Number(avoid.has(a.address)) - Number(avoid.has(b.address)))
      .slice(0, SENTINEL_REPLICAS);
    return [{ address: master, role: 'master' }, ...healthy];
  }
}

interface ClusterNode extends SubscriptionTarget {
  ok: boolean;
}

class ClusterPlan extends DiscoveredPlan {
  constructor(config: RedisConfig) {
    super(config, config.clusterNodes);
  }

  protected askOptions(): RedisOptions {
    return { ...nodeOptions(this.config, 'discovery') };
  }

  async targets(avoid: ReadonlySet<string>): Promise<SubscriptionTarget[]> {
    const nodes = (await this.ask((node) => node.call('CLUSTER', 'NODES') as Promise<string>))
      .split('\n')
      .map(parseClusterNode)
      .filter((n): n is ClusterNode => n !== undefined);
    // Ask any node next time, not only the seeds: the seeds may all be gone by then.
    this.sources = [...new Set([...this.sources, ...nodes.filter((n) => n.ok).map((n) => n.address)])];
    const usable = nodes.filter((n) => n.ok);
    const fresh = usable.filter((n) => !avoid.has(n.address));
    const pool = fresh.length > 0 ? fresh : usable;
    const masters = pool.filter((n) => n.role === 'master').slice(0, CLUSTER_MASTERS);
    // Fewer than two masters to hold (the others down or given up): replicas keep a second copy.
    const replicas = pool.filter((n) => n.role === 'replica').slice(0, Math.max(0, 2 - masters.length));
    return [...masters, ...replicas].map(({ address, role }) => ({ address, role }));
  }
}

/** One line of `CLUSTER NODES`: `<id> <ip:port@bus[,host]> <flags> <master-id|-> <ping> <pong> <epoch> <link> ...`. */
function parseClusterNode(line: string): ClusterNode | undefined {
  const [id, endpoint, flags, , , , , link] = line.trim().split(' ');
  if (!id || !endpoint || !flags) return undefined;
  const address = endpoint.split('@')[0];
  if (!address || address.startsWith(':')) return undefined;
  const flagList = flags.split(',');
  const ok =
    !flagList.some((f) => f === 'fail' || f === 'fail?' || f === 'noaddr' || f === 'handshake') &&
    (link === 'connected' || flagList.includes('myself'));
  return { address, role: flagList.includes('slave') ? 'replica' : 'master', ok };
}

/** A `SENTINEL REPLICAS` row (`[k1, v1, k2, v2, ...]`) as an object. */
function fields(row: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < row.length; i += 2) out[row[i]] = row[i + 1];
  return out;
}
