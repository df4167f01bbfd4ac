#!/usr/bin/env node
// @ts-check
// Heap per connection: what each idle client costs a server in V8's heap, measured after full
// garbage collections, so that it does not move with when V8 last collected (RSS does).
//
//   node bench/heap-per-connection.mjs [--runs=3] [--connections=2000] [--eio=4]
//                                      [--targets=bare,echo-relay] [--echo-relay-root=DIR]
//                                      [--out=FILE.json]
//
// Each run starts the target against a throw-away redis-server with `--expose-gc` and a probe
// (bench/lib/heap-probe.mjs) that, on SIGUSR2, collects twice and writes V8's heap use to a file.
// It reads that once the server is ready, connects `--connections` socket.io clients over WebSocket
// (Engine.IO `--eio`, each subscribing to one of 100 public channels, as S1 does), waits two
// seconds and reads it again: the difference divided by the connections is the figure. Median and
// min-max per target go to stdout and, with every run, to bench/results/heap-per-connection-<date>.json.

import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import WebSocket from 'ws';
import { childEnv } from './targets/common.mjs';
import { entryOf, relayRoot } from './targets/echo-relay.mjs';
import { summarize } from './lib/stats.mjs';
import { parseFlags, resultsFile, runStandalone, runTargets, writeResults } from './lib/standalone.mjs';
import { freePort, httpStatus, sleep, spawnChild, stopChild, waitFor } from './lib/proc.mjs';

const PROBE = fileURLToPath(new URL('./lib/heap-probe.mjs', import.meta.url));
const BARE = fileURLToPath(new URL('./targets/bare-server.mjs', import.meta.url));
const TARGETS = ['bare', 'echo-relay', 'echo-relay-no-recovery'];

/**
 * @typedef {{runs: number, connections: number, eio: 3|4, targets: string[], echoRelayRoot?: string, out: string}} Opts
 * @typedef {{heapBeforeMiB: number, heapAfterMiB: number, bytesPerConnection: number}} HeapRun
 */

/** @returns {Opts} */
function parseArgs() {
  const f = parseFlags();
  const targets = (f.targets ?? 'bare,echo-relay').split(',').filter(Boolean);
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t}`);
  const eio = Number(f.eio ?? 4);
  if (eio !== 3 && eio !== 4) throw new Error('--eio is 3 or 4');
  return {
    runs: Number(f.runs ?? 3),
    connections: Number(f.connections ?? 2000),
    eio,
    targets,
    echoRelayRoot: f['echo-relay-root'],
    out: f.out ?? resultsFile('heap-per-connection'),
  };
}

/**
 * The server's heap use after two full collections, through the probe.
 * @param {number} pid
 * @param {string} file
 * @returns {Promise<number>}
 */
async function heapUsed(pid, file) {
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  /** @type {number | undefined} */
  let used;
  await waitFor(
    () => {
      try {
        used = JSON.parse(readFileSync(file, 'utf8')).heapUsed;
        return true;
      } catch {
        return false;
      }
    },
    { timeoutMs: 10_000, what: 'heap probe' },
  );
  return /** @type {number} */ (used);
}

/**
 * One socket.io client over a raw WebSocket, connected and subscribed to `channel`.
 * @param {number} port
 * @param {3|4} eio
 * @param {string} channel
 * @returns {Promise<WebSocket>}
 */
function client(port, eio, channel) {
  return new Promise((res, rej) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=${eio}&transport=websocket`);
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('0') && eio === 4) ws.send('40');
      else if (text.startsWith('40')) {
        ws.send(`42["subscribe",{"channel":"${channel}"}]`);
        res(ws);
      } else if (text === '2') ws.send('3');
    });
    ws.once('error', rej);
  });
}

/**
 * @param {string} target
 * @param {Opts} o
 * @param {number} redisPort
 * @param {string} dir
 * @returns {Promise<HeapRun>}
 */
async function measureOnce(target, o, redisPort, dir) {
  const port = await freePort();
  const file = join(dir, `heap-${port}.json`);
  const node = ['--expose-gc', `--import=${PROBE}`];
  const args = target === 'bare' ? [...node, BARE] : [...node, entryOf(relayRoot(o))];
  const child = spawnChild(process.execPath, args, {
    cwd: dir,
    env: childEnv({
      PORT: String(port),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      REDIS_PREFIX: '',
      HEAP_PROBE_FILE: file,
      ...(target === 'echo-relay-no-recovery' ? { ECHO_RELAY_RECOVERY: 'false' } : {}),
    }),
    name: target,
  });
  /** @type {WebSocket[]} */
  const sockets = [];
  try {
    const ready = target === 'bare' ? '/socket.io/?EIO=4&transport=polling' : '/ready';
    await waitFor(async () => (await httpStatus(port, ready)) === 200, { timeoutMs: 30_000, what: 'ready', child });
    const pid = /** @type {number} */ (child.pid);
    await sleep(2000);
    const before = await heapUsed(pid, file);
    for (let i = 0; i < o.connections; i += 50) {
      const batch = [];
      for (let j = i; j < Math.min(i + 50, o.connections); j++) batch.push(client(port, o.eio, `c${j % 100}`));
      sockets.push(...(await Promise.all(batch)));
    }
    await sleep(2000);
    const after = await heapUsed(pid, file);
    return {
      heapBeforeMiB: Math.round((before / 2 ** 20) * 10) / 10,
      heapAfterMiB: Math.round((after / 2 ** 20) * 10) / 10,
      bytesPerConnection: Math.round((after - before) / o.connections),
    };
  } finally {
    for (const socket of sockets) socket.terminate();
    await stopChild(child, 5000);
  }
}

async function main() {
  const o = parseArgs();
  /** @type {Record<string, HeapRun[]>} */
  const runs = await runTargets(
    { runs: o.runs, targets: o.targets, tempPrefix: 'echo-relay-heap-' },
    (target, redisPort, dir) => measureOnce(target, o, redisPort, dir),
  );
  /** @type {Record<string, unknown>} */
  const summary = {};
  for (const [target, list] of Object.entries(runs)) {
    summary[target] = { bytesPerConnection: summarize(list.map((r) => r.bytesPerConnection)) };
  }
  writeResults(o.out, { options: o, summary, runs });
}

runStandalone(main);
