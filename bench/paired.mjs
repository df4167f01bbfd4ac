#!/usr/bin/env node
// @ts-check
// Servers measured side by side: every target runs at once, each against its own redis-server, and
// one load drives them all in step, so that whatever the machine does meanwhile (another process,
// a slower core, the host's neighbours) weighs on every target alike. Each run gives every target's
// figure as a ratio to the first target's in the same run. S1 and S3 run one target at a time, and
// on this machine a target's own figure moves by a fifth between two invocations minutes apart
// (bench/performance-work.md, tenth and twelfth looks): more than the differences worth measuring.
//
//   node bench/paired.mjs [--scenario=s1|s3] [--runs=5] [--targets=bare,echo-relay,echo-relay-no-recovery]
//                         [--eio=4] [--echo-relay-root=DIR] [--node-args="..."] [--out=FILE.json]
//     s1: [--connections=5000] [--batch=100]
//     s3: [--clients=1000] [--rate=1000] [--shared-rate=10] [--warmup-ms=3000] [--step-ms=10000] (S3 quick's)
//
// s1: `--connections` raw Engine.IO WebSockets per target, opened `--batch` per target at a time
// and interleaved (one to each target in turn), each subscribing to one of 100 public channels as
// S1's clients do; server CPU ms per connect + subscribe over the connect window.
// s3: S3's traffic (bench/README.md): `--clients` per target, each on its own channel and one
// shared channel; `--rate` Laravel broadcasts a second in all, `--shared-rate` of them on the shared
// channel, each published to every target's Redis at the same moment; deliveries per server
// CPU-second over the step, and the share of expected deliveries that did not arrive.
// The order in which targets get their share of each batch rotates from run to run. Results, with
// every run, go to bench/results/paired-<scenario>-<date>.json. `--node-args` go to every echo-relay target's
// node (e.g. `--cpu-prof --cpu-prof-dir=DIR`: the servers stop with SIGTERM, so the profile is written).

import { median } from './lib/stats.mjs';
import {
  parseFlags,
  resultsFile,
  runStandalone,
  SERVER_TARGETS,
  framesClient,
  startServer,
  subscribedClient,
  targetFlags,
  writeResults,
} from './lib/standalone.mjs';
import { makeTempDir, removeTempDir, sampleProcess, sleep, stopChild } from './lib/proc.mjs';
import { createPublisher, makePad, pacedPublish, startRedis } from './lib/redis.mjs';
import { CH, s3Traffic } from './lib/scenarios.mjs';
import { FULL, QUICK } from './lib/config.mjs';

const CHANNELS = 100;

/**
 * @typedef {{scenario: 's1'|'s3', runs: number, targets: string[], eio: 3|4, echoRelayRoot?: string, nodeArgs: string[], out: string,
 *   connections: number, batch: number, clients: number, rate: number, sharedRate: number, warmupMs: number, stepMs: number}} Opts
 * @typedef {{target: string, port: number, pid: number, stop: () => Promise<void>, redisPort: number, stopRedis: () => Promise<void>}} Live
 * @typedef {{figure: number, ratio: number, lossPct?: number}} TargetRun
 */

/** @returns {Opts} */
function options() {
  const f = parseFlags();
  const scenario = f.scenario ?? 's1';
  if (scenario !== 's1' && scenario !== 's3') throw new Error('--scenario is s1 or s3');
  const { targets, eio } = targetFlags(f, SERVER_TARGETS, 'bare,echo-relay,echo-relay-no-recovery');
  if (targets.length < 2) throw new Error('--targets: at least two, the first is the reference');
  const s3 = QUICK.s3;
  return {
    scenario,
    runs: Number(f.runs ?? 5),
    targets,
    eio,
    echoRelayRoot: f['echo-relay-root'],
    nodeArgs: (f['node-args'] ?? '').split(' ').filter(Boolean),
    out: f.out ?? resultsFile(`paired-${scenario}`),
    connections: Number(f.connections ?? 5000),
    batch: Number(f.batch ?? 100),
    clients: Number(f.clients ?? s3.clients),
    rate: Number(f.rate ?? s3.rate),
    sharedRate: Number(f['shared-rate'] ?? s3.sharedRate),
    warmupMs: Number(f['warmup-ms'] ?? 3000),
    stepMs: Number(f['step-ms'] ?? 10_000),
  };
}

/**
 * Every target started, each with its own redis-server (echo-relay nodes sharing one would form a
 * cluster), and ready.
 * @param {Opts} o
 * @param {string} dir
 * @returns {Promise<Live[]>}
 */
async function startAll(o, dir) {
  /** @type {Live[]} */
  const live = [];
  for (const target of o.targets) {
    const redis = await startRedis({ dir });
    const nodeArgs = target === 'bare' ? [] : o.nodeArgs;
    const { child, port } = await startServer(target, o, { redisPort: redis.port, dir, nodeArgs });
    live.push({
      target,
      port,
      pid: /** @type {number} */ (child.pid),
      stop: () => stopChild(child),
      redisPort: redis.port,
      stopRedis: redis.stop,
    });
  }
  // Past the start: what the bundle compiles and collects right after listening is not a connect's.
  await sleep(1500);
  return live;
}

/**
 * The targets in the order run `r` serves them (rotated, so that none always goes first).
 * @template T
 * @param {T[]} list
 * @param {number} r
 * @returns {T[]}
 */
const rotated = (list, r) => list.map((_, i) => list[(i + r) % list.length]);

/**
 * S1 side by side: server CPU ms per connect + subscribe of each target.
 * @param {Opts} o
 * @param {Live[]} live
 * @param {number} r
 * @returns {Promise<number[]>} per target, in `o.targets` order
 */
async function s1(o, live, r) {
  /** @type {import('ws').WebSocket[]} */
  const sockets = [];
  const before = live.map((l) => sampleProcess(l.pid).cpuSec);
  try {
    const order = rotated(live, r);
    for (let i = 0; i < o.connections; i += o.batch) {
      /** @type {Promise<import('ws').WebSocket>[]} */
      const batch = [];
      for (let j = i; j < Math.min(o.connections, i + o.batch); j++)
        for (const l of order) batch.push(subscribedClient(l.port, o.eio, `${CH}${j % CHANNELS}`));
      sockets.push(...(await Promise.all(batch)));
    }
    // The last subscribes reach the servers after the clients sent them.
    await sleep(500);
    return live.map((l, k) => ((sampleProcess(l.pid).cpuSec - before[k]) * 1000) / o.connections);
  } finally {
    for (const ws of sockets) ws.terminate();
  }
}

/**
 * S3 side by side: deliveries per server CPU-second of each target over one step, and loss.
 * @param {Opts} o
 * @param {Live[]} live
 * @param {number} r
 * @returns {Promise<{perCpuSec: number[], lossPct: number[]}>} per target, in `o.targets` order
 */
async function s3(o, live, r) {
  const counts = live.map(() => ({ delivered: 0 }));
  /** @type {import('ws').WebSocket[]} */
  const sockets = [];
  const publishers = await Promise.all(live.map((l) => createPublisher(l.redisPort)));
  const pad = makePad(FULL.dataBytes);
  try {
    const order = rotated(
      live.map((l, k) => ({ l, count: counts[k] })),
      r,
    );
    for (let i = 1; i <= o.clients; i += o.batch) {
      /** @type {Promise<import('ws').WebSocket>[]} */
      const batch = [];
      for (let own = i; own < Math.min(o.clients + 1, i + o.batch); own++)
        for (const { l, count } of order)
          batch.push(
            framesClient(
              l.port,
              o.eio,
              [`42["subscribe",{"channel":"${CH}${own}"}]`, `42["subscribe",{"channel":"${CH}0"}]`],
              () => count.delivered++,
            ),
          );
      sockets.push(...(await Promise.all(batch)));
    }
    await sleep(1000);
    // Every broadcast to every target's Redis at the same moment.
    const redis = {
      publish: (/** @type {string} */ channel, /** @type {string} */ message) =>
        Promise.all(publishers.map((p) => p.publish(channel, message))),
    };
    const { channelOf, expectedOf } = s3Traffic(o);
    await pacedPublish({ redis, rate: o.rate, durationMs: o.warmupMs, step: 1, channelOf, pad });
    await sleep(1000);
    for (const c of counts) c.delivered = 0;
    const before = live.map((l) => sampleProcess(l.pid).cpuSec);
    const step = await pacedPublish({ redis, rate: o.rate, durationMs: o.stepMs, step: 2, channelOf, pad });
    const expected = expectedOf(step.perChannel);
    // What is in flight arrives; the servers' CPU is read once it has.
    await sleep(1000);
    const cpu = live.map((l, k) => sampleProcess(l.pid).cpuSec - before[k]);
    return {
      perCpuSec: counts.map((c, k) => c.delivered / cpu[k]),
      lossPct: counts.map((c) => (100 * Math.max(0, expected - c.delivered)) / expected),
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    for (const p of publishers) p.disconnect();
  }
}

/**
 * @param {number[]} xs
 * @returns {{median: number, min: number, max: number}}
 */
const spread = (xs) => ({ median: median(xs) ?? NaN, min: Math.min(...xs), max: Math.max(...xs) });

async function main() {
  const o = options();
  const dir = makeTempDir('echo-relay-paired-');
  /** @type {Record<string, TargetRun[]>} */
  const runs = Object.fromEntries(o.targets.map((t) => [t, []]));
  try {
    for (let r = 0; r < o.runs; r++) {
      const live = await startAll(o, dir);
      try {
        /** @type {number[]} */
        let figures;
        /** @type {number[] | undefined} */
        let loss;
        if (o.scenario === 's1') figures = await s1(o, live, r);
        else ({ perCpuSec: figures, lossPct: loss } = await s3(o, live, r));
        const line = o.targets.map((t, k) => {
          const run = { figure: figures[k], ratio: figures[k] / figures[0], ...(loss ? { lossPct: loss[k] } : {}) };
          runs[t].push(run);
          return `${t} ${run.figure.toFixed(o.scenario === 's1' ? 3 : 0)} (${run.ratio.toFixed(2)}×${loss ? `, loss ${loss[k].toFixed(2)}%` : ''})`;
        });
        console.log(`run ${r + 1}: ${line.join(', ')}`);
      } finally {
        for (const l of live) {
          await l.stop();
          await l.stopRedis();
        }
      }
    }
  } finally {
    removeTempDir(dir);
  }
  const summary = Object.fromEntries(
    Object.entries(runs).map(([t, list]) => [
      t,
      { figure: spread(list.map((x) => x.figure)), ratio: spread(list.map((x) => x.ratio)) },
    ]),
  );
  const unit = o.scenario === 's1' ? 'server CPU ms per connect + subscribe' : 'deliveries per server CPU-second';
  writeResults(o.out, { options: { ...o, unit, reference: o.targets[0] }, summary, runs });
}

runStandalone(main);
