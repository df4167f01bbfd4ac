#!/usr/bin/env node
// @ts-check
// Where a connect's CPU goes, in the whole server process: `perf` samples of every thread, kernel
// included, while clients connect and subscribe as S1's do, each sample charged to the innermost
// JavaScript function on its stack (the runtime, builtins and system calls a function causes count
// as its own). `--cpu-prof` sees the main thread's JavaScript only; this also sees V8's helper
// threads (compiling, collecting) and the kernel.
//
//   node bench/connect-profile.mjs [--runs=1] [--connections=5000] [--eio=4]
//                                  [--targets=bare,echo-relay] [--echo-relay-root=DIR]
//                                  [--auth[=MIN-MAX]] [--room-size=10] [--by=package|file] [--top=30] [--out=FILE.json]
//
// Needs Linux `perf` allowed to attach to the server (root, or kernel.perf_event_paranoid <= 1 for
// its user-space part). Each run starts the target with `--perf-basic-prof
// --interpreted-frames-native-stack` (so that perf can name JavaScript frames, interpreted ones
// too) against a throw-away redis-server, attaches `perf record -F 999 -g` once it is ready, opens
// `--connections` raw Engine.IO WebSockets 200 at a time, each subscribing to one of 100 public
// channels, and stops perf 0.5 s after the last subscribe, before any client closes. The bundle's
// frames are named by its source map (the TypeScript file, or the package). A sample inside a
// scavenge counts as `(gc)`, whoever allocated. With `--auth` each client joins S5's three channels instead
// (a public one, its user's private channel and a presence room), the last two authorised by S5's stub of
// Laravel's auth endpoint, answering after MIN-MAX ms (default 5-20) on kept-alive connections, with `--room-size` consecutive clients per
// public channel and as many per presence room (S5's default, 10); the window
// then ends 0.5 s after the stub's last answer. Bare has no channel auth, so `--auth` profiles echo-relay only. Per target: samples per thread group (at 999 Hz a
// sample is about a millisecond), server CPU ms per connect over the same window, and the main
// thread's samples by `--by`; with every run, to bench/results/connect-profile-<date>.json.
//
// The figures are for comparing targets (and builds) with each other in one invocation; perf's own
// overhead and the frame maps make every target slower than in S1.

import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, join } from 'node:path';
import { median } from './lib/stats.mjs';
import {
  parseFlags,
  resultsFile,
  runStandalone,
  runTargets,
  SERVER_TARGETS,
  startServer,
  framesClient,
  subscribedClient,
  targetFlags,
  writeResults,
} from './lib/standalone.mjs';
import { sampleProcess, sleep, spawnChild, stopChild, waitFor } from './lib/proc.mjs';
import { startAuthStub, USER_HEADER } from './lib/auth-stub.mjs';
import { stormChannels } from './lib/storm-client.mjs';
import { channelFrame } from './lib/eio-client.mjs';
const IN_FLIGHT = 200;

/**
 * @typedef {{runs: number, connections: number, eio: 3|4, targets: string[], echoRelayRoot?: string, auth?: [number, number], roomSize: number, by: 'package'|'file', top: number, out: string}} Opts
 * @typedef {{cpuMsPerConnect: number, samples: Record<string, number>, main: Record<string, number>}} ProfileRun
 */

/** @returns {Opts} */
function parseArgs() {
  const f = parseFlags();
  const { targets, eio } = targetFlags(f, SERVER_TARGETS, 'bare,echo-relay');
  const by = f.by ?? 'package';
  if (by !== 'package' && by !== 'file') throw new Error('--by is package or file');
  /** @type {[number, number] | undefined} */
  let auth;
  if (f.auth !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(f.auth === 'true' ? '5-20' : f.auth);
    if (!m || Number(m[1]) > Number(m[2])) throw new Error('--auth is MIN-MAX milliseconds, e.g. --auth=5-20');
    auth = [Number(m[1]), Number(m[2])];
    if (targets.includes('bare')) throw new Error('--auth: bare has no channel auth; pick echo-relay targets');
  }
  return {
    runs: Number(f.runs ?? 1),
    connections: Number(f.connections ?? 5000),
    eio,
    targets,
    echoRelayRoot: f['echo-relay-root'],
    auth,
    roomSize: Number(f['room-size'] ?? 10),
    by,
    top: Number(f.top ?? 30),
    out: f.out ?? resultsFile('connect-profile'),
  };
}

/**
 * Names a frame's file the way the tables do: the package, or the path under `src/`.
 * @param {string} file
 * @param {'package'|'file'} by
 * @param {string} fn
 * @param {number | undefined} line
 */
function label(file, by, fn, line) {
  const inPackage = /.*node_modules\/((?:@[^/]+\/)?[^/]+)(\/.*)?$/.exec(file);
  const name = inPackage
    ? inPackage[1]
    : file.includes('/src/')
      ? `src/${file.split('/src/').pop()}`
      : file.startsWith('node:')
        ? file
        : file.replace(/^file:\/\//, '');
  if (by === 'package') return name;
  return `${name}${inPackage?.[2] ?? ''}:${line ?? '?'} ${fn}`;
}

/**
 * Charges each sample of `perf script` to its thread group and, on the main thread, to the
 * innermost JavaScript frame of its stack.
 * @param {string} data perf.data
 * @param {SourceMap | undefined} map the bundle's source map
 * @param {'package'|'file'} by
 * @returns {Promise<{samples: Record<string, number>, main: Record<string, number>}>}
 */
async function attribute(data, map, by) {
  const perf = spawn('perf', ['script', '-i', data, '-F', 'comm,ip,sym'], { stdio: ['ignore', 'pipe', 'ignore'] });
  /** @type {Record<string, number>} */
  const samples = {};
  /** @type {Map<string, number>} */
  const main = new Map();
  /** @type {Map<string, string>} */
  const names = new Map();
  /** @param {string} sym `JS:<tier><name> <file>:<line>:<column>` */
  const nameOf = (sym) => {
    let name = names.get(sym);
    if (name !== undefined) return name;
    const parts = sym.slice(3).split(' ');
    const where = parts.pop() ?? '';
    const fn = parts.join(' ').replace(/^[*+~^]?'?/, '') || '(anonymous)';
    const at = /^(.*):(\d+):(\d+)$/.exec(where);
    let file = at ? at[1] : where;
    let line = at ? Number(at[2]) : undefined;
    if (at && map && file.endsWith('.mjs') && file.includes('echo-relay-server')) {
      const entry = map.findEntry(Number(at[2]) - 1, Number(at[3]) - 1);
      if (entry && 'originalSource' in entry) {
        file = entry.originalSource;
        line = entry.originalLine + 1;
      }
    }
    name = label(file, by, fn, line);
    names.set(sym, name);
    return name;
  };
  let comm = '';
  /** @type {string | undefined} */
  let innermost;
  let gc = false;
  let any = false;
  const end = () => {
    if (!any) return;
    const group = comm.includes('MainThread') || comm === 'node' ? 'main' : comm.replace(/^node-/, '');
    samples[group] = (samples[group] ?? 0) + 1;
    if (group === 'main') {
      const key = gc ? '(gc)' : innermost ? nameOf(innermost) : '(no JavaScript frame)';
      main.set(key, (main.get(key) ?? 0) + 1);
    }
    any = false;
    innermost = undefined;
    gc = false;
  };
  for await (const line of createInterface({ input: perf.stdout })) {
    if (line.trim() === '') {
      end();
    } else if (line[0] !== ' ' && line[0] !== '\t') {
      end();
      comm = line.trim().split(/\s+/)[0];
      any = true;
    } else {
      const sym = line
        .trim()
        .replace(/^[0-9a-f]+\s+/, '')
        .replace(/\s+\([^)]*\)$/, '');
      if (/Scavenger|Heap::CollectGarbage|Heap::PerformGarbageCollection/.test(sym)) gc = true;
      if (innermost === undefined && sym.startsWith('JS:')) innermost = sym;
    }
  }
  end();
  return { samples, main: Object.fromEntries([...main].sort((a, b) => b[1] - a[1])) };
}

/**
 * @param {string} target
 * @param {Opts} o
 * @param {number} redisPort
 * @param {string} dir
 * @returns {Promise<ProfileRun>}
 */
async function profileOnce(target, o, redisPort, dir) {
  const stub = o.auth ? await startAuthStub({ delayMs: o.auth, keepAlive: true }) : undefined;
  const { child, port, entry } = await startServer(target, o, {
    redisPort,
    dir,
    nodeArgs: ['--perf-basic-prof', '--interpreted-frames-native-stack'],
    env: stub ? { ECHO_RELAY_AUTH_HOST: stub.url, ECHO_RELAY_AUTH_ENDPOINT: stub.endpoint } : {},
  });
  const pid = /** @type {number} */ (child.pid);
  const data = join(dir, `perf-${port}.data`);
  /** @type {import('ws').WebSocket[]} */
  const open = [];
  try {
    await sleep(1000);
    const perf = spawnChild('perf', ['record', '-F', '999', '-g', '-p', String(pid), '-o', data], {
      cwd: dir,
      env: process.env,
      name: 'perf',
    });
    await sleep(500);
    const before = sampleProcess(pid).cpuSec;
    let next = 0;
    const worker = async () => {
      while (next < o.connections) {
        const i = next++;
        open.push(
          stub
            ? await framesClient(
                port,
                o.eio,
                // As Laravel Echo joins them, the user id for the stub in the forwarded headers.
                stormChannels(i, { clients: o.connections, roomSize: o.roomSize }).map((channel) =>
                  channelFrame('subscribe', channel, { [USER_HEADER]: String(i + 1) }),
                ),
              )
            : await subscribedClient(port, o.eio, `c${i % 100}`),
        );
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    if (stub) {
      // Every client's private and presence subscribe asks the stub once; the window ends after its last answer.
      const asked = 2 * o.connections;
      await waitFor(() => stub.stats.requests >= asked && stub.stats.inFlight === 0, {
        timeoutMs: 60_000,
        what: `${asked} auth requests answered`,
        child,
      });
      if (stub.stats.ok !== asked) throw new Error(`the stub authorised ${stub.stats.ok} of ${asked} requests`);
    }
    await sleep(500);
    const cpuMsPerConnect = ((sampleProcess(pid).cpuSec - before) * 1000) / o.connections;
    perf.kill('SIGINT');
    await perf.exited;
    if (!existsSync(data)) throw new Error(`perf recorded nothing: ${perf.logTail().trim()}`);
    const mapFile = join(dirname(entry), 'echo-relay-server.mjs.map');
    const map =
      target !== 'bare' && existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : undefined;
    const { samples, main } = await attribute(data, map, o.by);
    return { cpuMsPerConnect: Math.round(cpuMsPerConnect * 1000) / 1000, samples, main };
  } finally {
    for (const ws of open) ws.terminate();
    await stopChild(child, 5000);
    await stub?.close();
    rmSync(data, { force: true });
    rmSync(`/tmp/perf-${pid}.map`, { force: true });
  }
}

async function main() {
  const o = parseArgs();
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('connect-profile needs Linux perf (apt-get install linux-perf)');
  }
  /** @type {Record<string, ProfileRun[]>} */
  const runs = await runTargets(
    { runs: o.runs, targets: o.targets, tempPrefix: 'echo-relay-connect-profile-' },
    (target, redisPort, dir) => profileOnce(target, o, redisPort, dir),
    // The main thread's table goes to the results file, not to each run's log line.
    ({ cpuMsPerConnect, samples }) => ({ cpuMsPerConnect, samples }),
  );
  /** @type {Record<string, unknown>} */
  const summary = {};
  const rows = new Set();
  for (const [target, list] of Object.entries(runs)) {
    const groups = new Set(list.flatMap((r) => Object.keys(r.samples)));
    /** @type {Record<string, number>} */
    const samples = {};
    for (const g of groups) samples[g] = median(list.map((r) => r.samples[g] ?? 0)) ?? 0;
    /** @type {Record<string, number>} */
    const mainBy = {};
    for (const r of list) for (const [k, v] of Object.entries(r.main)) mainBy[k] = (mainBy[k] ?? 0) + v / list.length;
    const top = Object.entries(mainBy)
      .sort((a, b) => b[1] - a[1])
      .slice(0, o.top);
    top.forEach(([k]) => rows.add(k));
    summary[target] = {
      cpuMsPerConnect: median(list.map((r) => r.cpuMsPerConnect)),
      samples,
      main: Object.fromEntries(top.map(([k, v]) => [k, Math.round(v)])),
    };
  }
  // Side by side: the main thread's samples per row, each target's column.
  const targets = Object.keys(summary);
  console.log(`\nmain-thread samples (mean of ${o.runs} run(s)), by ${o.by}`);
  console.log(['samples'.padStart(8), ...targets.map((t) => t.padStart(12))].join(' '));
  for (const row of rows) {
    const cells = targets.map((t) => String(/** @type {any} */ (summary[t]).main[row] ?? '').padStart(12));
    console.log([''.padStart(8), ...cells, ` ${row}`].join(' '));
  }
  writeResults(o.out, { options: o, summary, runs });
}

runStandalone(main);
