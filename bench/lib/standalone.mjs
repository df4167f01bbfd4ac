// @ts-check
// What the stand-alone measurements (subscribe-burst.mjs, heap-per-connection.mjs, connect-profile.mjs) share: their
// `--name=value` flags, their runs target by target, their results file, and how they stop.

import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { childEnv } from '../targets/common.mjs';
import { entryOf, relayRoot } from '../targets/echo-relay.mjs';
import { machineInfo } from './machine.mjs';
import { summarizeFields } from './stats.mjs';
import { freePort, httpStatus, killAllChildrenSync, makeTempDir, removeTempDir, spawnChild, waitFor } from './proc.mjs';
import { startRedis } from './redis.mjs';

const BARE = fileURLToPath(new URL('../targets/bare-server.mjs', import.meta.url));

/** The servers a stand-alone measurement of connections can start (`startServer`). */
export const SERVER_TARGETS = ['bare', 'echo-relay', 'echo-relay-no-recovery'];

const RESULTS_DIR = fileURLToPath(new URL('../results', import.meta.url));

/**
 * `--name=value` (or a bare `--name`, which is `'true'`) from the command line.
 * @returns {Record<string, string>}
 */
export function parseFlags() {
  /** @type {Record<string, string>} */
  const flags = {};
  for (const arg of process.argv.slice(2)) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg}`);
    flags[m[1]] = m[2] ?? 'true';
  }
  return flags;
}

/**
 * `--targets` (a comma list, each one of `allowed`) and `--eio` (3 or 4, default 4).
 * @param {Record<string, string>} flags from `parseFlags`
 * @param {string[]} allowed
 * @param {string} fallback the targets without the flag
 * @returns {{targets: string[], eio: 3|4}}
 */
export function targetFlags(flags, allowed, fallback) {
  const targets = (flags.targets ?? fallback).split(',').filter(Boolean);
  for (const t of targets) if (!allowed.includes(t)) throw new Error(`unknown target ${t}`);
  const eio = Number(flags.eio ?? 4);
  if (eio !== 3 && eio !== 4) throw new Error('--eio is 3 or 4');
  return { targets, eio };
}

/**
 * Starts one of `SERVER_TARGETS` on `port` (a free one by default) against the Redis at `redisPort` (cwd `dir`), with
 * `nodeArgs` before its entry and `env` added, and waits until it is ready: bare once it answers a
 * long-polling handshake, echo-relay once `/ready` answers 200.
 * @param {string} target
 * @param {{echoRelayRoot?: string}} opts
 * @param {{redisPort: number, dir: string, nodeArgs?: string[], env?: Record<string, string>, port?: number}} how
 * @returns {Promise<{child: import('./proc.mjs').BenchChild, port: number, entry: string}>}
 */
export async function startServer(target, opts, { redisPort, dir, nodeArgs = [], env = {}, port: given }) {
  const port = given ?? (await freePort());
  const entry = target === 'bare' ? BARE : entryOf(relayRoot(opts));
  const child = spawnChild(process.execPath, [...nodeArgs, entry], {
    cwd: dir,
    env: childEnv({
      PORT: String(port),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      REDIS_PREFIX: '',
      ...(target === 'echo-relay-no-recovery' ? { ECHO_RELAY_RECOVERY: 'false' } : {}),
      ...env,
    }),
    name: target,
  });
  const ready = target === 'bare' ? '/socket.io/?EIO=4&transport=polling' : '/ready';
  await waitFor(async () => (await httpStatus(port, ready)) === 200, { timeoutMs: 30_000, what: 'ready', child });
  return { child, port, entry };
}

/**
 * One socket.io client over a raw WebSocket, as S1's: it connects, subscribes to `channel` and
 * answers pings; resolves with it once the subscribe is sent.
 * @param {number} port
 * @param {3|4} eio
 * @param {string} channel
 * @returns {Promise<WebSocket>}
 */
export function subscribedClient(port, eio, channel) {
  return framesClient(port, eio, [`42["subscribe",{"channel":"${channel}"}]`]);
}

/**
 * One socket.io client over a raw WebSocket that sends `frames` once its namespace is connected and
 * answers pings; resolves with it once they are sent. `onEvent` is called for every event packet
 * (`42…`) it receives.
 * @param {number} port
 * @param {3|4} eio
 * @param {string[]} frames
 * @param {() => void} [onEvent]
 * @returns {Promise<WebSocket>}
 */
export function framesClient(port, eio, frames, onEvent) {
  return new Promise((res, rej) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=${eio}&transport=websocket`);
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('42')) onEvent?.();
      else if (text.startsWith('0') && eio === 4) ws.send('40');
      else if (text.startsWith('40')) {
        for (const frame of frames) ws.send(frame);
        res(ws);
      } else if (text === '2') ws.send('3');
    });
    ws.once('error', rej);
  });
}

/**
 * `bench/results/<name>-<date>.json`.
 * @param {string} name
 */
export function resultsFile(name) {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return join(RESULTS_DIR, `${name}-${stamp}.json`);
}

/**
 * `runs` rounds, each measuring every target once in turn (so that a machine slowing down weighs
 * on all of them), against one throw-away redis-server in a temporary directory, both gone
 * afterwards; every run is logged as it ends.
 * @template R
 * @param {{runs: number, targets: string[], tempPrefix: string}} plan
 * @param {(target: string, redisPort: number, dir: string) => Promise<R>} once
 * @param {(run: R) => unknown} [logged] what of a run its log line shows (all of it by default)
 * @returns {Promise<Record<string, R[]>>}
 */
export async function runTargets({ runs, targets, tempPrefix }, once, logged = (run) => run) {
  const dir = makeTempDir(tempPrefix);
  const redis = await startRedis({ dir });
  /** @type {Record<string, R[]>} */
  const byTarget = {};
  try {
    for (let r = 0; r < runs; r++) {
      for (const target of targets) {
        const run = await once(target, redis.port, dir);
        (byTarget[target] ??= []).push(run);
        console.log(`${target} run ${r + 1}: ${JSON.stringify(logged(run))}`);
      }
    }
  } finally {
    await redis.stop();
    removeTempDir(dir);
  }
  return byTarget;
}

/**
 * Per target, the median and min-max over its runs of each of `fields` (a results file's summary).
 * @template {object} R
 * @template {keyof R & string} F
 * @param {Record<string, R[]>} runs from `runTargets`
 * @param {F[]} fields
 * @returns {Record<string, Record<F, import('./stats.mjs').Summary>>}
 */
export function summarizeRuns(runs, fields) {
  return Object.fromEntries(Object.entries(runs).map(([target, list]) => [target, summarizeFields(list, fields)]));
}

/**
 * Writes the results file: the machine, the options, the summary per target and every run.
 * @param {string} out
 * @param {{options: unknown, summary: Record<string, unknown>, runs: unknown}} results
 */
export function writeResults(out, { options, summary, runs }) {
  for (const [target, figures] of Object.entries(summary)) console.log(`${target}: ${JSON.stringify(figures)}`);
  mkdirSync(resolve(out, '..'), { recursive: true });
  writeFileSync(out, JSON.stringify({ machine: machineInfo(), options, summary, runs }, null, 2));
  console.log(`wrote ${out}`);
}

/**
 * Runs `main`; on Ctrl-C or a failure every child it started is killed first.
 * @param {() => Promise<void>} main
 */
export function runStandalone(main) {
  process.on('SIGINT', () => {
    killAllChildrenSync();
    process.exit(130);
  });
  main().catch((err) => {
    console.error(err);
    killAllChildrenSync();
    process.exit(1);
  });
}
