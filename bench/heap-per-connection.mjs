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
import {
  parseFlags,
  resultsFile,
  runStandalone,
  runTargets,
  SERVER_TARGETS,
  summarizeRuns,
  startServer,
  subscribedClient,
  targetFlags,
  writeResults,
} from './lib/standalone.mjs';
import { sleep, stopChild, waitFor } from './lib/proc.mjs';

const PROBE = fileURLToPath(new URL('./lib/heap-probe.mjs', import.meta.url));

/**
 * @typedef {{runs: number, connections: number, eio: 3|4, targets: string[], echoRelayRoot?: string, out: string}} Opts
 * @typedef {{heapBeforeMiB: number, heapAfterMiB: number, bytesPerConnection: number}} HeapRun
 */

/** @returns {Opts} */
function parseArgs() {
  const f = parseFlags();
  const { targets, eio } = targetFlags(f, SERVER_TARGETS, 'bare,echo-relay');
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
 * @param {string} target
 * @param {Opts} o
 * @param {number} redisPort
 * @param {string} dir
 * @returns {Promise<HeapRun>}
 */
async function measureOnce(target, o, redisPort, dir) {
  const file = join(dir, `heap-${target}.json`);
  const { child, port } = await startServer(target, o, {
    redisPort,
    dir,
    nodeArgs: ['--expose-gc', `--import=${PROBE}`],
    env: { HEAP_PROBE_FILE: file },
  });
  /** @type {import('ws').WebSocket[]} */
  const sockets = [];
  try {
    const pid = /** @type {number} */ (child.pid);
    await sleep(2000);
    const before = await heapUsed(pid, file);
    for (let i = 0; i < o.connections; i += 50) {
      const batch = [];
      for (let j = i; j < Math.min(i + 50, o.connections); j++)
        batch.push(subscribedClient(port, o.eio, `c${j % 100}`));
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
  writeResults(o.out, { options: o, summary: summarizeRuns(runs, ['bytesPerConnection']), runs });
}

runStandalone(main);
