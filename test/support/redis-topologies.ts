import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { freePort, waitUntil } from './ports.js';
import { haveRedisServer, startRedis, type TestRedis } from './redis-server.js';

/** A group of redis-server processes started for one spec, killed together. */
export interface RedisGroup {
  /** `host:port` of every data node (cluster masters, or the Sentinel-managed master). */
  nodes: string[];
  /** `host:port` of the sentinels (Sentinel setups only). */
  sentinels: string[];
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

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function startProcess(args: string[], children: ChildProcess[]): void {
  children.push(spawn(BINARY, args, { stdio: 'ignore' }));
}

async function killAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map((child) => {
      if (child.exitCode !== null) return Promise.resolve();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      return exited;
    }),
  );
}

async function ask(port: number, ...command: string[]): Promise<string> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return String(await client.call(command[0], ...command.slice(1)));
  } finally {
    // A refused connection has already ended; disconnecting it again arms ioredis's 2 s
    // stream-close timer, which would hold the Jest worker open after the last test.
    if (client.status !== 'end') client.disconnect();
  }
}

/** A Redis Cluster of `masters` real redis-server processes (no replicas), all slots covered. */
export async function startRedisCluster(masters = 3): Promise<RedisGroup> {
  const dir = mkdtempSync(join(tmpdir(), 'echo-relay-cluster-'));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) ports.push(await clusterPort());
  for (const port of ports) {
    startProcess(
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '2000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      children,
    );
  }
  const nodes = ports.map((p) => `127.0.0.1:${p}`);
  try {
    for (const port of ports) await waitUntil(async () => (await ask(port, 'PING')) === 'PONG', 5000, `node ${port}`);
    const created = spawnSync('redis-cli', [
      '--cluster',
      'create',
      ...nodes,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${String(created.stdout)}`);
    for (const port of ports) {
      await waitUntil(
        async () => (await ask(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
        10_000,
        'cluster ok',
      );
    }
  } catch (err) {
    await killAll(children);
    throw err;
  }
  return { nodes, sentinels: [], close: () => killAll(children) };
}

/** A master plus one sentinel monitoring it as `mymaster`. */
export async function startRedisSentinel(): Promise<RedisGroup> {
  const dir = mkdtempSync(join(tmpdir(), 'echo-relay-sentinel-'));
  const children: ChildProcess[] = [];
  const master = await freePort();
  const sentinel = await freePort();
  startProcess(['--port', String(master), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], children);
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${sentinel}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${master} 1`,
      'sentinel down-after-milliseconds mymaster 1000',
      'sentinel failover-timeout mymaster 2000',
    ].join('\n'),
  );
  startProcess([conf, '--sentinel'], children);
  try {
    await waitUntil(
      async () => (await ask(sentinel, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')).includes(String(master)),
      10_000,
      'sentinel to know the master',
    );
  } catch (err) {
    await killAll(children);
    throw err;
  }
  return { nodes: [`127.0.0.1:${master}`], sentinels: [`127.0.0.1:${sentinel}`], close: () => killAll(children) };
}

/** Which Redis a suite runs on. */
export type RedisKind = 'single' | 'sentinel' | 'cluster';

/** One Redis topology started for a suite, and how echo-relay and a Laravel app reach it. */
export interface RedisSetup {
  kind: RedisKind;
  /** Env that points echo-relay (in this process or a child) at it. */
  env: Record<string, string>;
  /** `host:port` of every data node (one for a single Redis or Sentinel). */
  nodes: string[];
  /** A URL a plain client can PUBLISH through (a Cluster forwards publishes to every node). */
  url: string;
  /** The redis-server itself, to stop and start (single Redis only). */
  server?: TestRedis;
  close(): Promise<void>;
}

/** Why `kind` cannot be started here, or `false`. */
export function cannotStart(kind: RedisKind): string | false {
  if (kind === 'single') return false;
  return canStartTopologies() ? false : 'needs redis-server and redis-cli';
}

/** Starts a single redis-server, a Sentinel-managed master, or a 3-master Cluster. */
export async function startRedisSetup(kind: RedisKind): Promise<RedisSetup> {
  if (kind === 'single') {
    const server = await startRedis();
    return {
      kind,
      env: { REDIS_URL: server.url },
      nodes: [`${server.host}:${server.port}`],
      url: server.url,
      server,
      close: () => server.close(),
    };
  }
  const group = kind === 'cluster' ? await startRedisCluster(3) : await startRedisSentinel();
  const env: Record<string, string> =
    kind === 'cluster'
      ? { REDIS_CLUSTER_NODES: group.nodes.join(',') }
      : { REDIS_SENTINELS: group.sentinels.join(','), REDIS_SENTINEL_MASTER: 'mymaster' };
  return { kind, env, nodes: group.nodes, url: `redis://${group.nodes[0]}`, close: () => group.close() };
}
