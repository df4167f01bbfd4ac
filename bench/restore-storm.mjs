#!/usr/bin/env node
// @ts-check
// A restart's restores: what it costs echo-relay and its Redis when every client of a restarted node
// comes back at once asking for its session (socket.io-client >= 4.6 does so on its own), and how
// late a broadcast published meanwhile reaches its client.
//
//   node bench/restore-storm.mjs [--runs=3] [--clients=2000] [--channels=100] [--background=0]
//                                [--max-history=N] [--fresh] [--echo-relay-root=DIR] [--out=FILE.json]
//
// Each run starts echo-relay against a throw-away redis-server, connects `--clients` Engine.IO 4
// clients (raw WebSockets keeping pid and offset as socket.io-client does, each on one of
// `--channels` public channels), publishes one broadcast per channel so that every client holds an
// offset, stops the server (SIGTERM) and starts it again on the same port. Then every client
// reconnects, 200 at a time, asking for its session back (`--fresh`: without, as a client without
// recovery does, subscribing again), and as each is connected a broadcast goes to its channel, again
// every 50 ms until one arrives (a fresh client may not have joined yet): the time from the first
// to the arrival is the probe latency. `--background` publishes that many broadcasts a
// second on a channel no client is on, from before the stop to the end: what a busy app adds to
// the history while a node restarts. `--max-history` sets the server's `recovery.maxHistory` (with
// `--channels` as large as `--clients`, each client alone on a channel that was quiet since its one
// broadcast: the history holds less than what came after most clients' offsets). Figures per run: restored sessions, server CPU ms and Redis
// CPU µs per reconnect (over the reconnects and the probes), the storm's length, probe latency
// p50/p90/p99. Median and min-max go to stdout and, with every run, to
// bench/results/restore-storm-<date>.json.

import { Redis } from 'ioredis';
import { EioConnection, subscribeFrame, wsUrl } from './lib/eio-client.mjs';
import { bucketOf, createHistogram, percentiles } from './lib/histogram.mjs';
import { laravelPayload } from './lib/redis.mjs';
import { sampleProcess, sleep, stopChild, waitFor } from './lib/proc.mjs';
import {
  parseFlags,
  resultsFile,
  runStandalone,
  runTargets,
  startServer,
  summarizeRuns,
  writeResults,
} from './lib/standalone.mjs';

const IN_FLIGHT = 200;
/** A public channel no client joins, for `--background`. */
const BACKGROUND_CHANNEL = 'restore-storm-background';

/**
 * @typedef {{runs: number, clients: number, channels: number, background: number, maxHistory?: string, fresh: boolean, echoRelayRoot?: string, out: string}} Opts
 * @typedef {{restored: number, serverCpuMsPerReconnect: number, redisCpuUsPerReconnect: number, stormMs: number, probeP50Ms: number, probeP90Ms: number, probeP99Ms: number}} StormRun
 * @typedef {{i: number, recovery: import('./lib/eio-client.mjs').RecoveryState, conn: EioConnection|null, connected: boolean, events: number, probeAt: number, probeMs: number}} Client
 */

/** @returns {Opts} */
function parseArgs() {
  const f = parseFlags();
  return {
    runs: Number(f.runs ?? 3),
    clients: Number(f.clients ?? 2000),
    channels: Number(f.channels ?? 100),
    background: Number(f.background ?? 0),
    maxHistory: f['max-history'],
    fresh: f.fresh === 'true',
    echoRelayRoot: f['echo-relay-root'],
    out: f.out ?? resultsFile('restore-storm'),
  };
}

/**
 * @param {Opts} o
 * @param {number} redisPort
 * @param {string} dir
 * @returns {Promise<StormRun>}
 */
async function stormOnce(o, redisPort, dir) {
  /** @type {Record<string, string>} */
  const env = o.maxHistory ? { ECHO_RELAY_RECOVERY_MAX_HISTORY: o.maxHistory } : {};
  let { child, port } = await startServer('echo-relay', o, { redisPort, dir, env });
  const publisher = new Redis({ host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: 1 });
  const redisPid = Number((/process_id:(\d+)/.exec(await publisher.info('server')) ?? [])[1]);
  /** @type {Client[]} */
  const clients = Array.from({ length: o.clients }, (_, i) => ({
    i,
    recovery: {},
    conn: null,
    connected: false,
    events: 0,
    probeAt: 0,
    probeMs: 0,
  }));
  const channelOf = (/** @type {Client} */ c) => `c${c.i % o.channels}`;
  let probing = false;
  let restored = 0;
  /** @type {import('./lib/eio-client.mjs').EioHooks} */
  const hooks = {
    onConnected: (conn) => {
      const c = /** @type {Client} */ (conn.tag);
      c.connected = true;
      if (conn.recovered) restored++;
      if (!probing) return;
      c.probeAt = performance.now();
      void publisher.publish(channelOf(c), laravelPayload(1, 0, 0, ''));
    },
    onEvent: (conn) => {
      const c = /** @type {Client} */ (conn.tag);
      c.events++;
      if (c.probeAt > 0 && c.probeMs === 0) c.probeMs = performance.now() - c.probeAt;
    },
    onClosed: (conn) => {
      /** @type {Client} */ (conn.tag).connected = false;
    },
  };
  const connectAll = async () => {
    let next = 0;
    const worker = async () => {
      while (next < clients.length) {
        const c = clients[next++];
        const frames = [subscribeFrame(channelOf(c))];
        c.conn = new EioConnection(wsUrl(port, 4), 4, frames, hooks, c, o.fresh ? undefined : c.recovery);
        await waitFor(() => c.connected, { timeoutMs: 30_000, intervalMs: 2, what: `client ${c.i} connected`, child });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  };
  /** @type {NodeJS.Timeout | undefined} */
  let background;
  /** @type {NodeJS.Timeout | undefined} */
  let reprobe;
  try {
    await connectAll();
    await sleep(500);
    for (let j = 0; j < o.channels; j++) await publisher.publish(`c${j}`, laravelPayload(1, 0, 0, ''));
    await waitFor(() => clients.every((c) => c.events > 0), {
      timeoutMs: 10_000,
      what: 'every client holds an offset',
      child,
    });
    if (o.background > 0) {
      // In 10 ms ticks: a tenth of a hundredth of the rate each.
      const perTick = o.background / 100;
      let owed = 0;
      background = setInterval(() => {
        owed += perTick;
        for (; owed >= 1; owed--) void publisher.publish(BACKGROUND_CHANNEL, laravelPayload(0, 0, 0, ''));
      }, 10);
    }
    child.kill('SIGTERM');
    await child.exited;
    ({ child } = await startServer('echo-relay', o, { redisPort, dir, port, env }));
    await sleep(1000);
    for (const c of clients) c.connected = false;
    restored = 0;
    probing = true;
    const server0 = sampleProcess(/** @type {number} */ (child.pid)).cpuSec;
    const redis0 = sampleProcess(redisPid).cpuSec;
    const t0 = performance.now();
    reprobe = setInterval(() => {
      for (const c of clients)
        if (c.probeAt > 0 && c.probeMs === 0 && performance.now() - c.probeAt >= 50)
          void publisher.publish(channelOf(c), laravelPayload(1, 0, 0, ''));
    }, 50);
    await connectAll();
    const stormMs = performance.now() - t0;
    await waitFor(() => clients.every((c) => c.probeMs > 0), {
      timeoutMs: 30_000,
      what: 'every probe delivered',
      child,
    });
    const server = (sampleProcess(/** @type {number} */ (child.pid)).cpuSec - server0) * 1000;
    const redis = (sampleProcess(redisPid).cpuSec - redis0) * 1e6;
    const probes = createHistogram();
    for (const c of clients) probes[bucketOf(c.probeMs)]++;
    const [p50, p90, p99] = percentiles(probes, [50, 90, 99]).map((ms) => ms ?? NaN);
    const round = (/** @type {number} */ x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
    return {
      restored,
      serverCpuMsPerReconnect: round(server / o.clients, 3),
      redisCpuUsPerReconnect: round(redis / o.clients, 0),
      stormMs: round(stormMs, 0),
      probeP50Ms: round(p50),
      probeP90Ms: round(p90),
      probeP99Ms: round(p99),
    };
  } finally {
    clearInterval(background);
    clearInterval(reprobe);
    for (const c of clients) c.conn?.close();
    await stopChild(child, 5000);
    publisher.disconnect();
  }
}

async function main() {
  const o = parseArgs();
  const runs = await runTargets(
    { runs: o.runs, targets: ['echo-relay'], tempPrefix: 'echo-relay-restore-storm-' },
    (_target, redisPort, dir) => stormOnce(o, redisPort, dir),
  );
  const summary = summarizeRuns(runs, [
    'restored',
    'serverCpuMsPerReconnect',
    'redisCpuUsPerReconnect',
    'stormMs',
    'probeP50Ms',
    'probeP90Ms',
    'probeP99Ms',
  ]);
  writeResults(o.out, { options: o, summary, runs });
}

runStandalone(main);
