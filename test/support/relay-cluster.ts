import { LaravelPublisher } from './laravel-publisher.js';
import { ApiClient } from './http-api.js';
import { startRedis } from './redis-server.js';
import { startRedisCluster } from './redis-topologies.js';
import { startReadyRelay, type TestRelay } from './relay.js';

/** How a behavioural spec's server is laid out: how many nodes, on which Redis. */
export interface ClusterSetup {
  name: string;
  nodes: number;
  redis: 'single' | 'cluster';
}

export const CLUSTER_SETUPS: ClusterSetup[] = [
  { name: 'one node', nodes: 1, redis: 'single' },
  { name: 'three nodes sharing one Redis', nodes: 3, redis: 'single' },
  { name: 'three nodes on a 3-master Redis Cluster', nodes: 3, redis: 'cluster' },
];

export const APP = { appId: 'app', key: 'app-key' };
export const PREFIX = 'laravel_database_';

/** N echo-relay nodes (in this process, each its own Nest app and port) on one Redis topology. */
export interface RelayCluster {
  nodes: TestRelay[];
  /** Env that points a further node (or a child process) at the same Redis. */
  env: Record<string, string>;
  /** The HTTP API of node `i`. */
  api(i: number): ApiClient;
  /** A Laravel app publishing through the Redis (through its first node for a Cluster). */
  laravel: LaravelPublisher;
  /** Restarts a single Redis (not available for a Cluster). */
  restartRedis?: () => Promise<void>;
  close(): Promise<void>;
}

export async function startRelayCluster(
  setup: ClusterSetup,
  extraEnv: Record<string, string> = {},
): Promise<RelayCluster> {
  const closers: (() => Promise<void>)[] = [];
  let env: Record<string, string>;
  let publishUrl: string;
  let restartRedis: (() => Promise<void>) | undefined;
  if (setup.redis === 'cluster') {
    const group = await startRedisCluster(3);
    closers.push(() => group.close());
    env = { REDIS_CLUSTER_NODES: group.nodes.join(',') };
    publishUrl = `redis://${group.nodes[0]}`;
  } else {
    const redis = await startRedis();
    closers.push(() => redis.close());
    env = { REDIS_URL: redis.url };
    publishUrl = redis.url;
    restartRedis = async () => {
      await redis.stop(true);
      await redis.start();
    };
  }
  env = { ...env, REDIS_PREFIX: PREFIX, ECHO_RELAY_CLIENTS: JSON.stringify([APP]), ...extraEnv };
  const nodes: TestRelay[] = [];
  try {
    for (let i = 0; i < setup.nodes; i++) nodes.push(await startReadyRelay({ env }));
  } catch (err) {
    for (const node of nodes) await node.stop();
    for (const close of closers.reverse()) await close();
    throw err;
  }
  const laravel = new LaravelPublisher(publishUrl, PREFIX);
  return {
    nodes,
    env,
    api: (i) => new ApiClient(nodes[i].apiUrl, APP.appId, APP.key),
    laravel,
    restartRedis,
    close: async () => {
      await laravel.close();
      for (const node of nodes) await node.stop();
      for (const close of closers.reverse()) await close();
    },
  };
}
