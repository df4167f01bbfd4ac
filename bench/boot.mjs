#!/usr/bin/env node
// @ts-check
// Boot benchmark: how long a target takes from spawn to ready, the CPU it burns getting there and
// its memory (RSS) before any client.
//
//   node bench/boot.mjs [--runs=5] [--targets=bare,echo-relay] [--echo-relay-root=DIR]
//                       [--cpu-prof[=DIR]] [--settle-ms=2000] [--out=FILE.json]
//
// Each run spawns the target's Node process (bare: bench/targets/bare-server.mjs; echo-relay:
// <root>/dist/echo-relay.mjs or, for older builds, dist/main.js, cwd a temp dir) against one throw-away redis-server and polls every 5 ms
// until it is ready: echo-relay when GET /ready answers 200 (listening, Redis subscribed, history
// fed), bare when its port accepts a connection (it listens only after its psubscribe). It then
// reads /proc/<pid>/stat and status: wall ms from spawn to ready, CPU ms (user+sys) until then,
// RSS at ready and `--settle-ms` later (what S1 calls "RSS before any client"). Median and
// min-max per target go to stdout and, with every run, to bench/results/boot-<date>.json.
// --cpu-prof passes `--cpu-prof --cpu-prof-dir=DIR` (default bench/results/boot-prof) to the
// server; the profile is written when the server exits (SIGTERM after the RSS sample).

import { writeFileSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { startRedis } from './lib/redis.mjs';
import { childEnv } from './targets/common.mjs';
import { entryOf, relayRoot } from './targets/echo-relay.mjs';
import { machineInfo } from './lib/machine.mjs';
import { summarize } from './lib/stats.mjs';
import {
  spawnChild,
  stopChild,
  sampleProcess,
  httpStatus,
  freePort,
  sleep,
  makeTempDir,
  removeTempDir,
  killAllChildrenSync,
} from './lib/proc.mjs';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const BARE_SERVER = fileURLToPath(new URL('./targets/bare-server.mjs', import.meta.url));
const POLL_MS = 5;
const TIMEOUT_MS = 30_000;

/**
 * @typedef {{wallMs: number, cpuMs: number, rssReadyMiB: number, rssSettledMiB: number, cpuSettledMs: number}} BootRun
 * @typedef {{
 *   name: string,
 *   args: (o: Opts) => string[],
 *   env: (port: number, redisPort: number) => Record<string, string>,
 *   ready: (port: number) => Promise<boolean>,
 * }} BootTarget
 * @typedef {{runs: number, targets: string[], echoRelayRoot?: string, cpuProf: string|null, settleMs: number, out: string}} Opts
 */

/**
 * True when a TCP connection to 127.0.0.1:port is accepted.
 * @param {number} port
 * @returns {Promise<boolean>}
 */
const accepts = (port) =>
  new Promise((done) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  });

/** @type {BootTarget[]} */
const TARGETS = [
  {
    name: 'bare',
    args: () => [BARE_SERVER],
    env: (port, redisPort) => ({ PORT: String(port), REDIS_URL: `redis://127.0.0.1:${redisPort}` }),
    ready: accepts,
  },
  {
    name: 'echo-relay',
    args: (o) => [entryOf(relayRoot(o))],
    env: (port, redisPort) => ({ PORT: String(port), REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_PREFIX: '' }),
    ready: async (port) => (await httpStatus(port, '/ready', 500)) === 200,
  },
];

/** @returns {Opts} */
function parseArgs() {
  /** @type {Record<string, string>} */
  const f = {};
  for (const a of process.argv.slice(2)) {
    if (a === '--help' || a === '-h') {
      console.log(
        'node bench/boot.mjs [--runs=5] [--targets=bare,echo-relay] [--echo-relay-root=DIR] [--cpu-prof[=DIR]] [--settle-ms=2000] [--out=FILE.json]',
      );
      process.exit(0);
    }
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}`);
    f[m[1]] = m[2] ?? '';
  }
  const date = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
  return {
    runs: Number(f.runs ?? 5),
    targets: (f.targets ?? 'bare,echo-relay').split(',').filter(Boolean),
    echoRelayRoot: f['echo-relay-root'],
    cpuProf: 'cpu-prof' in f ? resolve(f['cpu-prof'] || join(BENCH_DIR, 'results', 'boot-prof')) : null,
    settleMs: Number(f['settle-ms'] ?? 2000),
    out: resolve(f.out ?? join(BENCH_DIR, 'results', `boot-${date}.json`)),
  };
}

/**
 * One cold start of a target.
 * @param {BootTarget} t
 * @param {Opts} o
 * @param {number} redisPort
 * @param {string} dir
 * @returns {Promise<BootRun>}
 */
async function bootOnce(t, o, redisPort, dir) {
  const port = await freePort();
  const nodeArgs = o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`] : [];
  const t0 = performance.now();
  const child = spawnChild(process.execPath, [...nodeArgs, ...t.args(o)], {
    cwd: dir,
    env: childEnv(t.env(port, redisPort)),
    name: t.name,
  });
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${t.name} exited before ready (${child.exitCode ?? child.signalCode})\n${child.logTail()}`);
      }
      if (await t.ready(port)) break;
      if (performance.now() - t0 > TIMEOUT_MS) throw new Error(`${t.name} not ready in ${TIMEOUT_MS} ms`);
      await sleep(POLL_MS);
    }
    const wallMs = performance.now() - t0;
    const pid = /** @type {number} */ (child.pid);
    const atReady = sampleProcess(pid);
    await sleep(o.settleMs);
    const settled = sampleProcess(pid);
    return {
      wallMs,
      cpuMs: atReady.cpuSec * 1000,
      rssReadyMiB: atReady.rssBytes / 2 ** 20,
      rssSettledMiB: settled.rssBytes / 2 ** 20,
      cpuSettledMs: settled.cpuSec * 1000,
    };
  } finally {
    await stopChild(child, 5000);
  }
}

/** @param {{median: number, min: number, max: number}} s @param {number} [d] */
const fmt = (s, d = 0) => `${s.median.toFixed(d)} (${s.min.toFixed(d)}-${s.max.toFixed(d)})`;

async function main() {
  const o = parseArgs();
  const targets = o.targets.map((n) => {
    const t = TARGETS.find((x) => x.name === n);
    if (!t) throw new Error(`unknown target ${n}; known: ${TARGETS.map((x) => x.name).join(', ')}`);
    return t;
  });
  if (o.cpuProf) mkdirSync(o.cpuProf, { recursive: true });
  const dir = makeTempDir('echo-relay-boot-');
  const redis = await startRedis({ dir });
  /** @type {Record<string, {runs: BootRun[], summary: Record<string, any>}>} */
  const results = {};
  try {
    for (const t of targets) {
      /** @type {BootRun[]} */
      const runs = [];
      for (let i = 0; i < o.runs; i++) {
        const r = await bootOnce(t, o, redis.port, dir);
        runs.push(r);
        console.log(
          `${t.name} #${i + 1}: ready ${r.wallMs.toFixed(0)} ms, CPU ${r.cpuMs.toFixed(0)} ms, RSS ${r.rssReadyMiB.toFixed(1)} MiB at ready, ${r.rssSettledMiB.toFixed(1)} MiB ${o.settleMs} ms later`,
        );
      }
      /** @type {Record<string, any>} */
      const summary = {};
      for (const k of /** @type {(keyof BootRun)[]} */ (['wallMs', 'cpuMs', 'rssReadyMiB', 'rssSettledMiB'])) {
        summary[k] = summarize(runs.map((r) => r[k]));
      }
      results[t.name] = { runs, summary };
    }
  } finally {
    await redis.stop();
    removeTempDir(dir);
  }
  console.log('\ntarget        start-to-ready ms   CPU ms            RSS at ready MiB   RSS settled MiB');
  for (const [name, { summary: s }] of Object.entries(results)) {
    console.log(
      `${name.padEnd(13)} ${fmt(s.wallMs).padEnd(19)} ${fmt(s.cpuMs).padEnd(17)} ${fmt(s.rssReadyMiB, 1).padEnd(18)} ${fmt(s.rssSettledMiB, 1)}`,
    );
  }
  mkdirSync(resolve(o.out, '..'), { recursive: true });
  writeFileSync(
    o.out,
    `${JSON.stringify({ kind: 'boot', date: new Date().toISOString(), opts: o, machine: machineInfo(), results }, null, 2)}\n`,
  );
  console.log(`\nwritten ${o.out}${o.cpuProf ? `; CPU profiles in ${o.cpuProf}` : ''}`);
}

process.on('exit', killAllChildrenSync);
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(sig, () => {
    killAllChildrenSync();
    process.exit(130);
  });
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
