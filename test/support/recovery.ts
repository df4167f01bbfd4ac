import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load-config.js';
import type { RelayConfig } from '../../src/config/relay-config.js';
import { recoveryKeys } from '../../src/recovery/recovery-log.js';
import { redisNames } from '../../src/redis/redis-namespace.js';
import { beforeAll } from '@jest/globals';
import { connected, rawSocket, withTimeout, type TestEcho } from './echo-client.js';
import { useFixture, type Fixture } from './fixture.js';
import { scrape } from './http-api.js';
import { waitUntil } from './ports.js';
import { TcpProxy } from './tcp-proxy.js';

/**
 * Support for the connection-state recovery specs (issue #12): clients that reconnect on their own
 * as a browser's do, a record of everything a client received with its raw arguments (a broadcast
 * to an Engine.IO 4 socket carries its history offset as the last one), and what recovery leaves in
 * Redis and in `/metrics`.
 */

export const PREFIX = 'laravel_database_';
export const APP = { appId: 'app', key: 'app-key' };
export const ANN = { id: 1, info: { name: 'Ann' } };
export const BOB = { id: 2, info: { name: 'Bob' } };
export const CAROL = { id: 3, info: { name: 'Carol' } };

/** A suite of recovery specs on one node: its fixture, a proxy in front of it, and their clients. */
export interface RecoverySuite {
  fx: Fixture;
  /** The TCP proxy in front of the node (from the suite's `beforeAll` on). */
  proxy: () => TcpProxy;
  /** An Echo client behind the proxy that reconnects by itself, recording everything it receives. */
  roaming: (options?: { version?: 2 | 4; token?: string }) => { echo: TestEcho; got: Received[] };
  /** A client straight on the node, subscribed to `channel`, recording everything. */
  observer: (channel: string) => Promise<Received[]>;
  /** Laravel broadcasts `tick` `{n}` on `channel`, leaving out `socket`. */
  tick: (channel: string, n: number | string, socket?: string | null) => Promise<void>;
}

/** One node with `env` (users ann, bob and carol at its auth stub, the HTTP API app `APP`), behind a proxy. */
export function recoverySuite(env: Record<string, string> = {}): RecoverySuite {
  const fx = useFixture({
    prefix: PREFIX,
    env: { ECHO_RELAY_CLIENTS: JSON.stringify([APP]), ...env },
    auth: { ann: ANN, bob: BOB, carol: CAROL },
  });
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await proxyTo(fx, fx.relay.port);
  });
  return {
    fx,
    proxy: () => proxy,
    roaming: ({ version, token } = {}) => {
      const echo = fx.client({ on: proxy.url, version, token, client: RECONNECTING });
      return { echo, got: recordAll(echo) };
    },
    observer: async (channel) => {
      const echo = fx.client();
      const got = recordAll(echo);
      echo.channel(channel);
      await connected(echo);
      return got;
    },
    tick: (channel, n, socket = null) => fx.laravel.broadcast([channel], 'tick', { n }, socket),
  };
}

/** socket.io's own reconnection, quick enough for specs (the default waits a second and more). */
export const RECONNECTING = { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 200 };

/** The configuration of a node on `redisUrl` with recovery on, `env` on top (e.g. `ECHO_RELAY_RECOVERY_LEASE_MS`). */
export function recoveryConfig(redisUrl: string, env: Record<string, string> = {}): RelayConfig {
  return loadConfig({
    env: { REDIS_URL: redisUrl, ECHO_RELAY_RECOVERY: 'true', ...env },
    cwd: mkdtempSync(join(tmpdir(), 'echo-relay-recovery-')),
  }).config;
}

/** A history offset as the design writes it: the Redis stream id `<ms>-<seq>`. */
export const OFFSET = /^\d+-\d+$/;

/** Every key recovery writes lives under this hash tag (one Cluster slot). */
/** The recovery keys of the suites' app (its prefix is in their hash tag). */
const RECOVERY = recoveryKeys(PREFIX);
export const RECOVERY_KEYS = `${redisNames(PREFIX).recovery}*`;
export const HISTORY_KEY = RECOVERY.history;
export const sessionKey = (pid: string): string => RECOVERY.session(pid);

/** One event as the client received it: the event name, then every argument. */
export type Received = [string, ...unknown[]];

/** The socket.io client state a spec looks at (socket.io-client 4 fields; `undefined` on 2). */
interface ClientSocket {
  id?: string;
  connected: boolean;
  recovered?: boolean;
  /** The session id the server handed out in the CONNECT reply; private in socket.io-client. */
  _pid?: string;
  /** The offset the client will present on reconnecting; private in socket.io-client. */
  _lastOffset?: string;
  onAny?(listener: (...args: unknown[]) => void): void;
  onevent?(packet: { data?: unknown[] }): void;
  on(event: string, cb: (...args: unknown[]) => void): void;
  once(event: string, cb: (...args: unknown[]) => void): void;
  off(event: string, cb: (...args: unknown[]) => void): void;
}

export function clientSocket(echo: TestEcho): ClientSocket {
  return rawSocket(echo) as unknown as ClientSocket;
}

/**
 * Records every event the client receives, with all its arguments, in arrival order. socket.io-client
 * 4 reports them through `onAny` (buffered ones once connected, as the app sees them); version 2
 * has no `onAny`, so its `onevent` is wrapped.
 */
export function recordAll(echo: TestEcho): Received[] {
  const received: Received[] = [];
  const socket = clientSocket(echo);
  if (socket.onAny) {
    socket.onAny((...args) => received.push(args as Received));
  } else {
    const onevent = socket.onevent!.bind(socket);
    socket.onevent = (packet) => {
      received.push([...(packet.data ?? [])] as Received);
      onevent(packet);
    };
  }
  return received;
}

/** The broadcasts `event` on `channel` among `received`: `[data, ...rest]` (rest = the offset, if any). */
export function broadcasts(received: Received[], channel: string, event: string): unknown[][] {
  return received.filter(([name, ch]) => name === event && ch === channel).map(([, , ...rest]) => rest);
}

/** The data of each broadcast `event` on `channel`, in order. */
export function dataOf(received: Received[], channel: string, event: string): unknown[] {
  return broadcasts(received, channel, event).map(([data]) => data);
}

/** Waits until `count` broadcasts `event` on `channel` arrived. */
export function waitForBroadcasts(
  received: Received[],
  channel: string,
  event: string,
  count: number,
  timeoutMs = 10_000,
): Promise<void> {
  return waitUntil(
    () => broadcasts(received, channel, event).length >= count,
    timeoutMs,
    `${count} × ${event} on ${channel} (have ${broadcasts(received, channel, event).length})`,
  );
}

/** What the client's next successful connect looked like. */
export interface Reconnect {
  id: string | undefined;
  recovered: boolean;
}

/** Resolves at the client's next `connect` (a reconnection after a drop), with its id and `recovered`. */
export function nextConnect(echo: TestEcho, timeoutMs = 10_000): Promise<Reconnect> {
  const socket = clientSocket(echo);
  return withTimeout(
    new Promise((resolve) =>
      socket.once('connect', () => resolve({ id: socket.id, recovered: socket.recovered === true })),
    ),
    timeoutMs,
    'the client to reconnect',
  );
}

/** Resolves at the client's next `disconnect`, with its reason. */
export function nextDisconnect(echo: TestEcho, timeoutMs = 10_000): Promise<string> {
  const socket = clientSocket(echo);
  return withTimeout(
    new Promise((resolve) => socket.once('disconnect', (reason) => resolve(String(reason)))),
    timeoutMs,
    'the client to see the drop',
  );
}

/** A TCP proxy in front of the node on `port`, closed with the suite. */
export async function proxyTo(fx: Fixture, port: number): Promise<TcpProxy> {
  const proxy = await TcpProxy.start(port);
  fx.defer(() => proxy.close());
  return proxy;
}

/** Every key matching `pattern` on one Redis (SCAN, so a busy Redis is not blocked). */
export async function keys(redis: Redis, pattern = RECOVERY_KEYS): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

/**
 * The value of `name` summed over the samples whose labels include `labels` (any order; prom-client
 * writes them in the order they were first set). 0 when there is none yet.
 */
export async function metric(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  let total = 0;
  for (const [key, value] of await scrape(baseUrl)) {
    const match = /^([^{]+)(?:\{(.*)\})?$/.exec(key);
    if (!match || match[1] !== name) continue;
    const have = new Map([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) total += value;
  }
  return total;
}

export const RECOVERIES = 'echo_relay_recoveries_total';
export const REPLAYED = 'echo_relay_recovery_replayed_total';
export const SEQUENCER = 'echo_relay_sequencer';

/**
 * Takes the client behind `proxy` offline: new connections are refused, then `drop` breaks the
 * current one (by default every proxied connection is reset; a spec may stop or kill the node
 * instead). Once the client saw the drop, runs `gap` (publish into it, wait until it is sequenced),
 * then lets the client back in. Resolves with the drop's reason and the reconnection.
 */
export async function offline(
  echo: TestEcho,
  proxy: TcpProxy,
  gap: () => Promise<void>,
  drop: () => Promise<void> | void = () => proxy.cut(),
): Promise<Reconnect & { reason: string }> {
  const dropped = nextDisconnect(echo);
  proxy.refuse();
  await drop();
  const reason = await dropped;
  await gap();
  const back = nextConnect(echo);
  proxy.accept();
  return { ...(await back), reason };
}

/** Stream ids in order: `a` before `b`. */
export function offsetBefore(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am < bm || (am === bm && as < bs);
}

/** Whether every broadcast carries one offset as its last argument, each later than the one before. */
export function offsetsAscend(received: unknown[][]): boolean {
  const offsets = received.map((rest) => (rest.length === 2 ? rest[1] : undefined));
  if (!offsets.every((o) => typeof o === 'string' && OFFSET.test(o))) return false;
  return (offsets as string[]).every((o, i, all) => i === 0 || offsetBefore(all[i - 1], o));
}

/** The `presence:joining` and `presence:leaving` events among `received`, in order. */
export function presenceChanges(received: Received[]): Received[] {
  return received.filter(([event]) => event === 'presence:joining' || event === 'presence:leaving');
}

/** The member list of every `presence:subscribed` among `received`, in order. */
export function presenceSnapshots(received: Received[]): unknown[][] {
  return received.filter(([event]) => event === 'presence:subscribed').map(([, , members]) => members as unknown[]);
}

/**
 * Runs `publish` and waits until `seen` (a client that stays connected) has one more `event` on
 * `channel`. Broadcasts that enter through different paths (Laravel over Redis, the HTTP API,
 * another node) have no order of their own; published this way, each is in the history before
 * the next is published, so a spec may assert their order.
 */
export async function sequenced(
  seen: Received[],
  channel: string,
  event: string,
  publish: () => Promise<void>,
): Promise<void> {
  const count = broadcasts(seen, channel, event).length;
  await publish();
  await waitForBroadcasts(seen, channel, event, count + 1);
}
