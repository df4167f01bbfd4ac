// @ts-check
// Redis topologies for the failover benchmark (bench/failover.mjs): a single Redis, Sentinel
// (one master, one replica, three sentinels) and Cluster (three masters, with or without one
// replica each), every server a registered child on a free loopback port, so it can be
// SIGKILLed on purpose and is killed in any case when the harness exits.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis, Cluster } from 'ioredis';
import { spawnChild, stopChild, freePort, waitFor, sleep } from './proc.mjs';
import { REDIS_SERVER, redisServerArgs } from './redis.mjs';

/** redis-cli next to redis-server (used for `--cluster create`). */
const REDIS_CLI = REDIS_SERVER.replace(/redis-server$/, 'redis-cli');
const SENTINEL_MASTER = 'mymaster';
export const SENTINEL_DOWN_AFTER_MS = 1000;
export const CLUSTER_NODE_TIMEOUT_MS = 2000;

/**
 * One redis-server (data node or sentinel) the benchmark may kill and start again on its port.
 * @typedef {object} RedisProc
 * @property {number} port
 * @property {() => number|undefined} pid
 * @property {() => boolean} alive
 * @property {() => Promise<void>} kill SIGKILL, and wait for the exit
 * @property {() => Promise<void>} restart start again on the same port with the same arguments
 * @property {() => Promise<void>} stop
 */

/**
 * A running topology: its servers, how echo-relay is pointed at it, and a Laravel-like publisher.
 * @typedef {object} Topology
 * @property {RedisProc[]} data data nodes
 * @property {RedisProc[]} sentinels
 * @property {Record<string, string>} env REDIS_* variables for echo-relay
 * @property {() => import('ioredis').Redis|import('ioredis').Cluster} publisher a client that follows failovers
 * @property {() => Promise<void>} stop
 */

/**
 * Answer of one command on one server through a throw-away connection (null when unreachable).
 * @param {number} port
 * @param {string} cmd
 * @param {...string} args
 * @returns {Promise<unknown>}
 */
export async function ask(port, cmd, ...args) {
  const r = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
    commandTimeout: 1000,
  });
  r.on('error', () => {});
  try {
    await r.connect();
    return await r.call(cmd, ...args);
  } catch {
    return null;
  } finally {
    r.disconnect();
  }
}

/**
 * Start a redis-server child (from config file `conf` when given, which must come first) with
 * `args` after the common ones, and wait until it answers PING.
 * @param {{dir: string, name: string, args?: string[], port?: number, conf?: string}} o
 * @returns {Promise<RedisProc>}
 */
export async function startRedisProc({ dir, name, args = [], port, conf }) {
  const p = port ?? (await freePort());
  const argv = [...(conf ? [conf] : []), ...redisServerArgs(p, dir), '--repl-diskless-sync-delay', '0', ...args];
  /** @type {import('./proc.mjs').BenchChild} */
  let child;
  const spawnIt = async () => {
    child = spawnChild(REDIS_SERVER, argv, { name: `${name}:${p}` });
    await waitFor(async () => (await ask(p, 'PING')) === 'PONG', { timeoutMs: 10_000, what: `${name} start`, child });
  };
  await spawnIt();
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    port: p,
    pid: () => child.pid,
    alive,
    kill: async () => {
      if (!alive()) return;
      child.kill('SIGKILL');
      await child.exited;
    },
    restart: spawnIt,
    stop: () => stopChild(child, 1000),
  };
}

/**
 * A single Redis.
 * @param {string} dir
 * @returns {Promise<Topology>}
 */
export async function singleTopology(dir) {
  const node = await startRedisProc({ dir, name: 'redis' });
  return {
    data: [node],
    sentinels: [],
    env: { REDIS_URL: `redis://127.0.0.1:${node.port}` },
    publisher: () => new Redis({ host: '127.0.0.1', port: node.port, ...PUBLISHER_OPTIONS }),
    stop: () => stopAll([node]),
  };
}

/**
 * Sentinel: a master, one replica (wait for its first sync) and three sentinels that know each
 * other and the replica before anything is measured (a failover needs the quorum of two).
 * @param {string} dir
 * @returns {Promise<Topology>}
 */
export async function sentinelTopology(dir) {
  const master = await startRedisProc({ dir, name: 'master' });
  const replica = await startRedisProc({
    dir,
    name: 'replica',
    args: ['--replicaof', '127.0.0.1', String(master.port)],
  });
  await waitFor(async () => String(await ask(replica.port, 'INFO', 'replication')).includes('master_link_status:up'), {
    timeoutMs: 15_000,
    what: 'replica sync',
  });
  /** @type {RedisProc[]} */
  const sentinels = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER} ${SENTINEL_DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${SENTINEL_MASTER} 3000`,
        '',
      ].join('\n'),
    );
    sentinels.push(await startRedisProc({ dir, name: 'sentinel', port, conf, args: ['--sentinel'] }));
  }
  await waitFor(
    async () => {
      for (const s of sentinels) {
        const info = /** @type {string[]|null} */ (await ask(s.port, 'SENTINEL', 'MASTER', SENTINEL_MASTER));
        if (!info) return false;
        const field = (/** @type {string} */ k) => Number(info[info.indexOf(k) + 1]);
        if (field('num-other-sentinels') < 2 || field('num-slaves') < 1) return false;
      }
      return true;
    },
    { timeoutMs: 30_000, what: 'sentinels discovering each other' },
  );
  const sentinelList = sentinels.map((s) => ({ host: '127.0.0.1', port: s.port }));
  return {
    data: [master, replica],
    sentinels,
    env: {
      REDIS_SENTINELS: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      REDIS_SENTINEL_MASTER: SENTINEL_MASTER,
    },
    publisher: () => new Redis({ sentinels: sentinelList, name: SENTINEL_MASTER, ...PUBLISHER_OPTIONS }),
    stop: () => stopAll([...sentinels, master, replica]),
  };
}

/**
 * Cluster of three masters, each with `replicas` replicas, made by `redis-cli --cluster create`;
 * ready when every node says `cluster_state:ok` and knows every other, and every replica is synced.
 * @param {string} dir
 * @param {number} replicas
 * @returns {Promise<Topology>}
 */
export async function clusterTopology(dir, replicas) {
  const count = 3 * (1 + replicas);
  /** @type {RedisProc[]} */
  const nodes = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    nodes.push(
      await startRedisProc({
        dir,
        name: 'cluster',
        port,
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          String(CLUSTER_NODE_TIMEOUT_MS),
        ],
      }),
    );
  }
  execFileSync(
    REDIS_CLI,
    [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ],
    { stdio: 'ignore', timeout: 30_000 },
  );
  await waitFor(
    async () => {
      for (const n of nodes) {
        const info = String(await ask(n.port, 'CLUSTER', 'INFO'));
        if (!info.includes('cluster_state:ok') || !info.includes(`cluster_known_nodes:${count}`)) return false;
        const repl = String(await ask(n.port, 'INFO', 'replication'));
        if (repl.includes('role:slave') && !repl.includes('master_link_status:up')) return false;
      }
      return true;
    },
    { timeoutMs: 30_000, what: 'cluster forming' },
  );
  const seeds = nodes.slice(0, 3).map((n) => ({ host: '127.0.0.1', port: n.port }));
  return {
    data: nodes,
    sentinels: [],
    env: { REDIS_CLUSTER_NODES: seeds.map((s) => `${s.host}:${s.port}`).join(',') },
    publisher: () =>
      new Cluster(seeds, {
        enableOfflineQueue: false,
        clusterRetryStrategy: () => 100,
        redisOptions: PUBLISHER_OPTIONS,
      }),
    stop: () => stopAll(nodes),
  };
}

/**
 * Like Laravel's PHP client a publish is sent now or fails now: nothing queues while the
 * connection is down, and a publish without an answer within a second counts as failed.
 */
const PUBLISHER_OPTIONS = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 1000,
  connectTimeout: 1000,
  retryStrategy: () => 100,
};

/**
 * @param {RedisProc[]} procs
 * @returns {Promise<void>}
 */
async function stopAll(procs) {
  await Promise.all(procs.map((p) => p.stop()));
  await sleep(100);
}

/**
 * `host:port` of the node a replica replicates from (null for a master or an unreachable node).
 * @param {number} port
 * @returns {Promise<string|null>}
 */
export async function masterOf(port) {
  const role = /** @type {unknown[]|null} */ (await ask(port, 'ROLE'));
  if (!role || role[0] !== 'slave') return null;
  return `${String(role[1])}:${String(role[2])}`;
}

/**
 * The current master's port, as the first sentinel that answers says.
 * @param {RedisProc[]} sentinels
 * @returns {Promise<number>}
 */
export async function sentinelMasterPort(sentinels) {
  for (const s of sentinels) {
    const addr = /** @type {string[]|null} */ (
      await ask(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER)
    );
    if (addr) return Number(addr[1]);
  }
  throw new Error('no sentinel answered');
}
