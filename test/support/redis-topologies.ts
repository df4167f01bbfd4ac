import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { canListen, freePort, waitUntil } from './ports.js';
import { haveRedisServer, startRedis, type TestRedis } from './redis-server.js';

/** A group of redis-server processes started for one spec, killed together. */
export interface RedisGroup {
  /** `host:port` of every data node (cluster masters, or the Sentinel-managed master). */
  nodes: string[];
  /** `host:port` of the sentinels (Sentinel setups only). */
  sentinels: string[];
  /** SIGKILLs the data node at `host:port`; resolves once it exited. */
  kill(address: string): Promise<void>;
  /** Starts a killed data node again, same port, same arguments (a Cluster node keeps its config file). */
  restart(address: string): Promise<void>;
  close(): Promise<void>;
}

const BINARY = process.env.REDIS_SERVER_BIN ?? 'redis-server';

export function canStartTopologies(): boolean {
  return haveRedisServer() && spawnSync('redis-cli', ['--version']).status === 0;
}

/**
 * A free port whose cluster bus port (port + 10000) is free too. Both are taken below the
 * kernel's ephemeral range (32768 and up), where an outgoing connection of any other process
 * could otherwise grab the bus port between this check and redis-server binding it.
 */
async function clusterPort(): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 10_000);
    if ((await canListen(port)) && (await canListen(port + 10_000))) return port;
  }
}

function startProcess(args: string[], children: ChildProcess[]): ChildProcess {
  const child = spawn(BINARY, args, { stdio: 'ignore' });
  children.push(child);
  return child;
}

/** A group's data node processes by `host:port`, each with the arguments to start it again. */
class DataNodes {
  private readonly started = new Map<string, { args: string[]; child: ChildProcess }>();

  constructor(private readonly children: ChildProcess[]) {}

  start(port: number, args: string[]): void {
    this.started.set(`127.0.0.1:${port}`, { args, child: startProcess(args, this.children) });
  }

  async kill(address: string): Promise<void> {
    await killAll([this.get(address).child]);
  }

  async restart(address: string): Promise<void> {
    const node = this.get(address);
    node.child = startProcess(node.args, this.children);
    const [, port] = splitAddress(address);
    await waitUntil(async () => (await ask(port, 'PING')) === 'PONG', 5000, `${address} back`);
  }

  private get(address: string): { args: string[]; child: ChildProcess } {
    return this.started.get(address) ?? fail(`no data node at ${address}`);
  }
}

function fail(message: string): never {
  throw new Error(message);
}

async function killAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map((child) => {
      // A process killed by a signal has a `signalCode` and no `exitCode`.
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      return exited;
    }),
  );
}

async function ask(port: number, ...command: string[]): Promise<string> {
  return String(await call(port, ...command));
}

/** One command on a fresh connection to `port` (or `host:port`), its raw reply. */
export async function call(port: number | string, ...command: string[]): Promise<unknown> {
  const [host, p] = typeof port === 'number' ? ['127.0.0.1', port] : splitAddress(port);
  const client = new Redis({ port: p, host, lazyConnect: true, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(command[0], ...command.slice(1));
  } finally {
    // A refused connection has already ended; disconnecting it again arms ioredis's 2 s
    // stream-close timer, which would hold the Jest worker open after the last test.
    if (client.status !== 'end') client.disconnect();
  }
}

/**
 * A Redis Cluster of `masters` real redis-server processes, all slots covered, each master with
 * `replicas` replicas. Every node's `cluster-node-timeout` is `nodeTimeoutMs`: how long a dead
 * master goes unnoticed before its replica takes over (plus about one more second of election).
 */
export async function startRedisCluster(masters = 3, replicas = 0, nodeTimeoutMs = 2000): Promise<RedisGroup> {
  const dir = mkdtempSync(join(tmpdir(), 'echo-relay-cluster-'));
  const children: ChildProcess[] = [];
  const dataNodes = new DataNodes(children);
  const ports: number[] = [];
  for (let i = 0; i < masters * (1 + replicas); i++) ports.push(await clusterPort());
  for (const port of ports) {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout',
      String(nodeTimeoutMs),
      '--repl-diskless-sync-delay',
      '0',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ];
    dataNodes.start(port, args);
  }
  const nodes = ports.map((p) => `127.0.0.1:${p}`);
  try {
    for (const port of ports) await waitUntil(async () => (await ask(port, 'PING')) === 'PONG', 5000, `node ${port}`);
    const created = spawnSync('redis-cli', [
      '--cluster',
      'create',
      ...nodes,
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${String(created.stdout)}`);
    for (const port of ports) {
      await waitUntil(
        async () => (await ask(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
        10_000,
        'cluster ok',
      );
      // redis-cli makes the replicas after the masters joined: each node must have heard of them.
      // Gossip spreads it; should it not, the failure shows what this node believes.
      await waitUntil(async () => (await replicasKnown(port)) === masters * replicas, 10_000, 'replicas known').catch(
        async (err: Error) => {
          const view = await ask(port, 'CLUSTER', 'NODES').catch((e: Error) => e.message);
          throw new Error(`${err.message} (node ${port}, ${masters * replicas} expected):\n${view}`);
        },
      );
      await waitUntil(() => replicaInSync(port), 10_000, `replica ${port} in sync`);
    }
  } catch (err) {
    await killAll(children);
    throw err;
  }
  return {
    nodes,
    sentinels: [],
    kill: (address) => dataNodes.kill(address),
    restart: (address) => dataNodes.restart(address),
    close: () => killAll(children),
  };
}

/** How many replicas `CLUSTER NODES` on `port` lists. */
async function replicasKnown(port: number): Promise<number> {
  const lines = (await ask(port, 'CLUSTER', 'NODES')).trim().split('\n');
  return lines.filter((line) => line.split(' ')[2].split(',').includes('slave')).length;
}

/** True for a master, and for a replica once its link to its master is up (its first sync done). */
async function replicaInSync(port: number): Promise<boolean> {
  const info = await ask(port, 'INFO', 'replication');
  return info.includes('role:master') || info.includes('master_link_status:up');
}

/** The name the sentinels monitor the master by. */
export const SENTINEL_MASTER = 'mymaster';

/**
 * A master with `replicas` replicas, monitored as `mymaster` by `sentinels` sentinels (quorum: a
 * majority). A master is judged down after 1 s; a fresh replica syncs at once (no diskless delay).
 * Resolves once every replica is in sync and every sentinel knows every replica and every other
 * sentinel, so that a failover can start as soon as the master dies.
 */
export async function startRedisSentinel(replicas = 0, sentinels = 1): Promise<RedisGroup> {
  const dir = mkdtempSync(join(tmpdir(), 'echo-relay-sentinel-'));
  const children: ChildProcess[] = [];
  const dataNodes = new DataNodes(children);
  const master = await freePort();
  const dataPorts = [master];
  const sentinelPorts: number[] = [];
  try {
    for (let i = 0; i <= replicas; i++) {
      const port = i === 0 ? master : await freePort();
      const replicaOf = i === 0 ? [] : ['--replicaof', '127.0.0.1', String(master)];
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
      dataNodes.start(port, [...args, '--repl-diskless-sync-delay', '0', ...replicaOf]);
      if (i > 0) dataPorts.push(port);
    }
    for (const port of dataPorts) {
      await waitUntil(async () => (await ask(port, 'PING')) === 'PONG', 5000, `redis ${port}`);
      await waitUntil(() => replicaInSync(port), 10_000, `replica ${port} in sync`);
    }
    const quorum = Math.floor(sentinels / 2) + 1;
    for (let i = 0; i < sentinels; i++) {
      sentinelPorts.push(startSentinel(dir, await freePort(), master, quorum, children));
    }
    for (const port of sentinelPorts) await waitUntil(() => sentinelKnowsAll(port, dataPorts, sentinels - 1), 15_000);
  } catch (err) {
    await killAll(children);
    throw err;
  }
  return {
    nodes: dataPorts.map((p) => `127.0.0.1:${p}`),
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`),
    kill: (address) => dataNodes.kill(address),
    restart: (address) => dataNodes.restart(address),
    close: () => killAll(children),
  };
}

function startSentinel(dir: string, port: number, master: number, quorum: number, children: ChildProcess[]): number {
  const conf = join(dir, `sentinel-${port}.conf`);
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${master} ${quorum}`,
      `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
      `sentinel failover-timeout ${SENTINEL_MASTER} 2000`,
    ].join('\n'),
  );
  startProcess([conf, '--sentinel'], children);
  return port;
}

/** The sentinel at `port` knows the master, every replica of `dataPorts`, and `others` other sentinels. */
async function sentinelKnowsAll(port: number, dataPorts: number[], others: number): Promise<boolean> {
  const master = await ask(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER);
  if (!master.includes(String(dataPorts[0]))) return false;
  const replicas = await ask(port, 'SENTINEL', 'REPLICAS', SENTINEL_MASTER);
  if (!dataPorts.slice(1).every((p) => replicas.includes(`127.0.0.1:${p}`))) return false;
  const peers = (await call(port, 'SENTINEL', 'SENTINELS', SENTINEL_MASTER)) as unknown[];
  return peers.length === others;
}

/**
 * Which Redis a suite runs on: one redis-server, a Sentinel-managed master alone (one sentinel) or
 * with a replica (three sentinels, so a failover can happen), a 3-master Cluster without or with
 * one replica per master.
 */
export type RedisKind = 'single' | 'sentinel' | 'sentinel-replicated' | 'cluster' | 'cluster-replicated';

/** One Redis topology started for a suite, and how echo-relay and a Laravel app reach it. */
export interface RedisSetup {
  kind: RedisKind;
  /** Env that points echo-relay (in this process or a child) at it. */
  env: Record<string, string>;
  /** `host:port` of every data node (the master first on Sentinel; masters and replicas on a Cluster). */
  nodes: string[];
  /** `host:port` of the sentinels (Sentinel setups only). */
  sentinels: string[];
  /** A URL a plain client can PUBLISH through (a Cluster forwards publishes to every node). */
  url: string;
  /** The redis-server itself, to stop and start (single Redis only). */
  server?: TestRedis;
  /** The data nodes not killed with `kill`. */
  live(): string[];
  /** SIGKILLs the data node at `host:port` for good (Sentinel and Cluster only). */
  kill(address: string): Promise<void>;
  /** Starts a killed data node again on its port (Sentinel and Cluster only). */
  restart(address: string): Promise<void>;
  close(): Promise<void>;
}

/** Why `kind` cannot be started here, or `false`. */
export function cannotStart(kind: RedisKind): string | false {
  if (kind === 'single') return false;
  return canStartTopologies() ? false : 'needs redis-server and redis-cli';
}

/** Starts the topology `kind` names. */
export async function startRedisSetup(kind: RedisKind): Promise<RedisSetup> {
  if (kind === 'single') {
    const server = await startRedis();
    const address = `${server.host}:${server.port}`;
    return {
      kind,
      env: { REDIS_URL: server.url },
      nodes: [address],
      sentinels: [],
      url: server.url,
      server,
      live: () => [address],
      kill: controlledThroughServer,
      restart: controlledThroughServer,
      close: () => server.close(),
    };
  }
  const group = await startGroup(kind);
  const env: Record<string, string> = kind.startsWith('cluster')
    ? { REDIS_CLUSTER_NODES: group.nodes.join(',') }
    : { REDIS_SENTINELS: group.sentinels.join(','), REDIS_SENTINEL_MASTER: SENTINEL_MASTER };
  const killed = new Set<string>();
  return {
    kind,
    env,
    nodes: group.nodes,
    sentinels: group.sentinels,
    url: `redis://${group.nodes[0]}`,
    live: () => group.nodes.filter((node) => !killed.has(node)),
    kill: async (address) => {
      killed.add(address);
      await group.kill(address);
    },
    restart: async (address) => {
      await group.restart(address);
      killed.delete(address);
    },
    close: () => group.close(),
  };
}

function controlledThroughServer(): Promise<void> {
  return Promise.reject(new Error('a single Redis is stopped and started through `server`'));
}

function startGroup(kind: Exclude<RedisKind, 'single'>): Promise<RedisGroup> {
  switch (kind) {
    case 'sentinel':
      return startRedisSentinel();
    case 'sentinel-replicated':
      return startRedisSentinel(1, 3);
    case 'cluster':
      return startRedisCluster(3);
    case 'cluster-replicated':
      return startRedisCluster(3, 1, 1500);
  }
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}
