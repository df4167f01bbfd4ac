// @ts-check
// What the stand-alone measurements (subscribe-burst.mjs, heap-per-connection.mjs, connect-profile.mjs) share: their
// `--name=value` flags, their runs target by target, their results file, and how they stop.

import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { machineInfo } from './machine.mjs';
import { killAllChildrenSync, makeTempDir, removeTempDir } from './proc.mjs';
import { startRedis } from './redis.mjs';

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
