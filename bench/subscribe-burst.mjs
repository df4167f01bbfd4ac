#!/usr/bin/env node
// @ts-check
// Subscribe-burst benchmark: what a node spends when sockets subscribe to many public channels at
// once, as Laravel Echo does right after a reconnect (it re-sends every subscribe it holds).
//
//   node bench/subscribe-burst.mjs [--runs=3] [--sockets=10] [--channels=1000] [--name-length=160]
//                                  [--targets=echo-relay,echo-relay-no-recovery] [--echo-relay-root=DIR]
//                                  [--out=FILE.json]
//
// Each run starts the target (<root>/dist/echo-relay.mjs, cwd a temp dir) against a throw-away
// redis-server, connects `--sockets` socket.io 4 clients over WebSocket, waits a second, then has
// each send `--channels` subscribes to distinct public channels (names `--name-length` characters
// long) in one burst. Once the server's CPU stops moving (under 20 ms in a second) it reads
// /proc/<pid>: server CPU ms from the burst to then, and the highest RSS sampled every 50 ms
// above the RSS before the burst; then it checks that every socket sits in every channel (GET
// /apps/bench/channels on the old HTTP API), which the figures do not include. Median and min-max per target go to stdout and, with every run,
// to bench/results/subscribe-burst-<date>.json.

import { io } from 'socket.io-client';
import { childEnv } from './targets/common.mjs';
import { entryOf, relayRoot } from './targets/echo-relay.mjs';
import { parseFlags, resultsFile, runStandalone, runTargets, summarizeRuns, writeResults } from './lib/standalone.mjs';
import { freePort, httpStatus, sampleProcess, sleep, spawnChild, stopChild, waitFor } from './lib/proc.mjs';

const API_KEY = 'bench-burst-key';

/**
 * @typedef {{runs: number, sockets: number, channels: number, nameLength: number, targets: string[], echoRelayRoot?: string, out: string}} Opts
 * @typedef {{cpuMs: number, peakRssDeltaMiB: number, rssBeforeMiB: number}} BurstRun
 */

/** @type {Record<string, Record<string, string>>} */
const TARGET_ENV = {
  'echo-relay': {},
  'echo-relay-no-recovery': { ECHO_RELAY_RECOVERY: 'false' },
};

/** @returns {Opts} */
function parseArgs() {
  const f = parseFlags();
  const targets = (f.targets ?? 'echo-relay,echo-relay-no-recovery').split(',').filter(Boolean);
  for (const t of targets) if (!(t in TARGET_ENV)) throw new Error(`unknown target ${t}`);
  return {
    runs: Number(f.runs ?? 3),
    sockets: Number(f.sockets ?? 10),
    channels: Number(f.channels ?? 1000),
    nameLength: Number(f['name-length'] ?? 160),
    targets,
    echoRelayRoot: f['echo-relay-root'],
    out: f.out ?? resultsFile('subscribe-burst'),
  };
}

/**
 * Subscriptions to the burst's channels, from the old HTTP API's channel list.
 * @param {number} port
 * @param {string} prefix
 * @returns {Promise<number>}
 */
async function subscribed(port, prefix) {
  const res = await fetch(`http://127.0.0.1:${port}/apps/bench/channels?auth_key=${API_KEY}`);
  if (!res.ok) throw new Error(`GET /apps/bench/channels answered ${res.status}`);
  const { channels } = /** @type {{channels: Record<string, {subscription_count: number}>}} */ (await res.json());
  let sum = 0;
  for (const [name, c] of Object.entries(channels)) if (name.startsWith(prefix)) sum += c.subscription_count;
  return sum;
}

/**
 * @param {string} target
 * @param {Opts} o
 * @param {number} redisPort
 * @param {string} dir
 * @returns {Promise<BurstRun>}
 */
async function burstOnce(target, o, redisPort, dir) {
  const port = await freePort();
  const child = spawnChild(process.execPath, [entryOf(relayRoot(o))], {
    cwd: dir,
    env: childEnv({
      PORT: String(port),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      REDIS_PREFIX: '',
      ECHO_RELAY_CLIENTS: JSON.stringify([{ appId: 'bench', key: API_KEY }]),
      ECHO_RELAY_MAX_MESSAGE_BURST: String(o.channels + 100),
      ...TARGET_ENV[target],
    }),
    name: target,
  });
  const sockets = [];
  try {
    await waitFor(async () => (await httpStatus(port, '/ready')) === 200, { timeoutMs: 30_000, what: 'ready', child });
    const pid = /** @type {number} */ (child.pid);
    for (let i = 0; i < o.sockets; i++) {
      const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
      await new Promise((res, rej) => {
        socket.once('connect', () => res(undefined));
        socket.once('connect_error', rej);
      });
      sockets.push(socket);
    }
    await sleep(1000);
    const prefix = `burst${Date.now()}.`;
    const pad = 'x'.repeat(Math.max(0, o.nameLength - prefix.length - 12));
    const before = sampleProcess(pid);
    let peak = before.rssBytes;
    const sampler = setInterval(() => (peak = Math.max(peak, sampleProcess(pid).rssBytes)), 50);
    sockets.forEach((socket, i) => {
      for (let j = 0; j < o.channels; j++) {
        socket.emit('subscribe', { channel: `${prefix}${i}.${j}.${pad}`, auth: { headers: {} } });
      }
    });
    // Until the server is idle: the subscribes, and what follows them (session writes and the like).
    for (let last = sampleProcess(pid).cpuSec; ;) {
      await sleep(1000);
      const now = sampleProcess(pid).cpuSec;
      if (now - last < 0.02) break;
      last = now;
    }
    clearInterval(sampler);
    const after = sampleProcess(pid);
    const expected = o.sockets * o.channels;
    const got = await subscribed(port, prefix);
    if (got !== expected) throw new Error(`${target}: ${got} of ${expected} subscriptions made`);
    return {
      cpuMs: Math.round((after.cpuSec - before.cpuSec) * 1000),
      peakRssDeltaMiB: Math.round(((peak - before.rssBytes) / 2 ** 20) * 10) / 10,
      rssBeforeMiB: Math.round((before.rssBytes / 2 ** 20) * 10) / 10,
    };
  } finally {
    for (const socket of sockets) socket.disconnect();
    await stopChild(child, 5000);
  }
}

async function main() {
  const o = parseArgs();
  /** @type {Record<string, BurstRun[]>} */
  const runs = await runTargets(
    { runs: o.runs, targets: o.targets, tempPrefix: 'echo-relay-burst-' },
    (target, redisPort, dir) => burstOnce(target, o, redisPort, dir),
  );
  writeResults(o.out, { options: o, summary: summarizeRuns(runs, ['cpuMs', 'peakRssDeltaMiB']), runs });
}

runStandalone(main);
