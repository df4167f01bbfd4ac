// @ts-check
// Child-process lifecycle (every child is registered and killed on exit,
// failure or signal), /proc sampling for CPU time and RSS, free ports and
// small polling helpers.

import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { get as httpGet } from 'node:http';
import { execFileSync } from 'node:child_process';

/**
 * A child started by {@link spawnChild}: its output tail, a name for reports, and a promise of its exit code
 * (or the signal that ended it; null when it could not be spawned).
 * @typedef {import('node:child_process').ChildProcess & {
 *   logTail: () => string,
 *   benchName: string,
 *   exited: Promise<number|NodeJS.Signals|null>,
 * }} BenchChild
 */

/** @type {Set<BenchChild>} */
const children = new Set();

/** Clock ticks per second for /proc/<pid>/stat utime/stime. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * Sleep.
 * @param {number} ms
 * @returns {Promise<void>}
 */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Soft and hard RLIMIT_NOFILE of this process, read from /proc/self/limits.
 * @returns {{soft: number, hard: number}}
 */
export function nofileLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  if (!line) throw new Error('no "Max open files" line in /proc/self/limits');
  const [soft, hard] = line
    .trim()
    .split(/\s+/)
    .slice(3, 5)
    .map((x) => (x === 'unlimited' ? Infinity : Number(x)));
  return { soft, hard };
}

/**
 * Ask the kernel for a free TCP port on 127.0.0.1.
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Spawn a registered child. When this process's soft fd limit is below the
 * hard limit the child is started through `bash -c 'ulimit -n <hard>; exec ...'`
 * (same pid thanks to exec) so servers can hold as many sockets as allowed.
 * stdout/stderr are kept in a bounded ring for error reports.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{cwd?: string, env?: NodeJS.ProcessEnv, name: string}} opts
 * @returns {BenchChild}
 */
export function spawnChild(cmd, args, { cwd, env, name }) {
  const { soft, hard } = nofileLimit();
  let file = cmd;
  let argv = args;
  if (Number.isFinite(hard) && hard > soft) {
    file = 'bash';
    argv = ['-c', `ulimit -n ${hard} 2>/dev/null; exec "$0" "$@"`, cmd, ...args];
  }
  const proc = spawn(file, argv, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  /** @param {Buffer|string} chunk */
  const keep = (chunk) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const child = /** @type {BenchChild} */ (/** @type {import('node:child_process').ChildProcess} */ (proc));
  child.logTail = () => tail;
  child.benchName = name;
  children.add(child);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve(code ?? signal);
    });
    child.on('error', (err) => {
      keep(`spawn error: ${err.message}\n`);
      children.delete(child);
      resolve(null);
    });
  });
  return child;
}

/**
 * Stop a child: SIGTERM, then SIGKILL after `graceMs`.
 * @param {BenchChild|null|undefined} child
 * @param {number} [graceMs]
 * @returns {Promise<void>}
 */
export async function stopChild(child, graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(t);
}

/** @type {Set<string>} */
const tempDirs = new Set();

/**
 * Create a temp directory that is removed by {@link removeTempDir} or, at the
 * latest, by {@link killAllChildrenSync} on exit.
 * @param {string} prefix
 * @returns {string}
 */
export function makeTempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

/** @param {string} d */
export function removeTempDir(d) {
  tempDirs.delete(d);
  rmSync(d, { recursive: true, force: true });
}

/** SIGKILL every registered child and remove temp dirs, synchronously (used from exit handlers). */
export function killAllChildrenSync() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const d of tempDirs) removeTempDir(d);
}

/**
 * Stop every registered child gracefully.
 * @returns {Promise<void>}
 */
export async function stopAllChildren() {
  await Promise.all([...children].map((c) => stopChild(c, 2000)));
}

/**
 * pid plus all descendants (so a target that forks workers is fully counted).
 * @param {number} pid
 * @returns {number[]}
 */
function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i];
    try {
      for (const tid of readdirSync(`/proc/${p}/task`)) {
        const kids = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
        if (kids) for (const k of kids.split(/\s+/)) out.push(Number(k));
      }
    } catch {
      /* process vanished */
    }
  }
  return out;
}

/**
 * CPU time (user+system, seconds) and RSS (bytes) of a process tree.
 * @param {number} pid
 * @returns {{cpuSec: number, rssBytes: number}}
 */
export function sampleProcess(pid) {
  let ticks = 0;
  let rssKb = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] is field 3 (state); utime = field 14, stime = field 15
      ticks += Number(fields[11]) + Number(fields[12]);
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      if (m) rssKb += Number(m[1]);
    } catch {
      /* process vanished */
    }
  }
  return { cpuSec: ticks / CLK_TCK, rssBytes: rssKb * 1024 };
}

/**
 * HTTP GET status code on 127.0.0.1 (null on connection error / timeout).
 * @param {number} port
 * @param {string} path
 * @param {number} [timeoutMs]
 * @returns {Promise<number|null>}
 */
export function httpStatus(port, path, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const req = httpGet({ host: '127.0.0.1', port, path, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

/**
 * Poll `fn` until it returns a truthy value or the deadline passes.
 * @template T
 * @param {() => Promise<T>|T} fn
 * @param {{timeoutMs: number, intervalMs?: number, what: string, child?: BenchChild}} opts
 * @returns {Promise<T>}
 */
export async function waitFor(fn, { timeoutMs, intervalMs = 100, what, child }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what}: process exited early (${child.exitCode ?? child.signalCode})\n${child.logTail()}`);
    }
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) {
      throw new Error(`${what}: timed out after ${timeoutMs} ms${child ? `\n${child.logTail()}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** @param {string} p */
export const exists = (p) => existsSync(p);

/**
 * Machine-wide busy CPU time (seconds, all cores) from /proc/stat.
 * @returns {number}
 */
export function machineBusySec() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
  return busy / CLK_TCK;
}

/**
 * CPU used by everything except the given process trees and this process,
 * as a percentage of one core, over a window started by `start()`.
 * @param {number[]} pids processes that are part of the measurement (server, redis)
 * @returns {{stop: () => number}}
 */
export function backgroundCpu(pids) {
  const ours = () =>
    pids.reduce((a, p) => a + (p ? sampleProcess(p).cpuSec : 0), 0) + sampleProcess(process.pid).cpuSec;
  const m0 = machineBusySec();
  const o0 = ours();
  const t0 = performance.now();
  return {
    stop() {
      const sec = (performance.now() - t0) / 1000;
      const other = machineBusySec() - m0 - (ours() - o0);
      return Math.max(0, (100 * other) / sec);
    },
  };
}

/**
 * Wait (bounded) until processes other than ours use less than `maxPct` of one
 * core, so steps are not measured while something else loads the machine.
 * @param {number[]} pids our processes (excluded from the load figure)
 * @param {{maxPct: number, maxWaitMs: number, windowMs?: number}} o
 * @returns {Promise<{waitedMs: number, bgPct: number, quiet: boolean}>}
 */
export async function waitQuiet(pids, { maxPct, maxWaitMs, windowMs = 500 }) {
  const t0 = performance.now();
  for (;;) {
    const w = backgroundCpu(pids);
    await sleep(windowMs);
    const bgPct = w.stop();
    const waitedMs = performance.now() - t0;
    if (bgPct < maxPct) return { waitedMs, bgPct, quiet: true };
    if (waitedMs >= maxWaitMs) return { waitedMs, bgPct, quiet: false };
  }
}
