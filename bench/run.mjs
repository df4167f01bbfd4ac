#!/usr/bin/env node
// @ts-check
// Benchmark orchestrator: start a redis-server per target, run each scenario on
// every target in turn (each on a freshly started server), stop everything, then write
// bench/results/<date>-<mode>.json and BENCHMARKS.md at the repository root.
//
//   node bench/run.mjs            full run (30-45 min for bare + laravel-echo-server)
//   node bench/run.mjs --quick    ~3 min
//   node bench/run.mjs --help

import { writeFileSync, readFileSync, mkdirSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { relative, resolve } from 'node:path';
import { loadConfig, usage } from './lib/config.mjs';
import { Loadgen } from './lib/loadgen.mjs';
import { TargetSession } from './lib/session.mjs';
import { machineInfo } from './lib/machine.mjs';
import { renderMarkdown } from './lib/report.mjs';
import { kindLabel } from './lib/eio-client.mjs';
import { killAllChildrenSync, stopAllChildren } from './lib/proc.mjs';
import { pickTargets } from './targets/index.mjs';
import { s1Idle, s1Max, s2FanOut, s3ManyChannels, s4PresenceChurn } from './lib/scenarios.mjs';
import { s5ReconnectStorm } from './lib/storm.mjs';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO_ROOT = resolve(BENCH_DIR, '..');
const RESULTS_DIR = resolve(BENCH_DIR, 'results');

/**
 * @typedef {import('./lib/config.mjs').BenchConfig} BenchConfig
 * @typedef {import('./lib/results.js').Results} Results
 * @typedef {import('./lib/results.js').TargetResult} TargetResult
 * @typedef {(s: TargetSession, c: BenchConfig, eio: any) => Promise<object>} ScenarioRunner
 */

/** @param {string} line */
const log = (line) => console.log(line);

/**
 * Scenario name -> runner(session, config, eio); run once per Engine.IO version the target speaks.
 * @type {Record<string, ScenarioRunner>}
 */
const SCENARIOS = {
  s1: (s, c, eio) => s1Idle(s, c.s1, eio),
  s1max: (s, c, eio) => s1Max(s, c.s1max, eio),
  s2: (s, c, eio) => s2FanOut(s, c.s2, eio),
  s2small: (s, c, eio) => s2FanOut(s, c.s2small, eio),
  s3: (s, c, eio) => s3ManyChannels(s, c.s3, eio),
  s4: (s, c, eio) => s4PresenceChurn(s, c.s4, eio),
  s5: (s, c, eio) => s5ReconnectStorm(s, c.s5, eio),
};
/** Scenarios that also run with Pusher protocol clients on targets that serve them (pure fan-out). */
const PUSHER_SCENARIOS = new Set(['s2', 's3']);
/** @type {Record<string, string>} */
const TITLES = {
  s1: 'S1 idle connections',
  s1max: 'S1 largest connection count',
  s2: 'S2 fan-out',
  s2small: 'S2 fan-out, small room',
  s3: 'S3 many channels',
  s4: 'S4 presence churn',
  s5: 'S5 reconnect storm',
};

/**
 * Write the raw JSON and BENCHMARKS.md.
 * @param {Results} results
 * @param {string} jsonPath
 * @param {BenchConfig} cfg
 */
function writeReport(results, jsonPath, cfg) {
  const out = cfg.out ? resolve(cfg.out) : resolve(REPO_ROOT, 'BENCHMARKS.md');
  const others = existsSync(RESULTS_DIR)
    ? readdirSync(RESULTS_DIR)
        .filter((f) => f.endsWith('.json') && resolve(RESULTS_DIR, f) !== resolve(jsonPath))
        .map((f) => relative(REPO_ROOT, resolve(RESULTS_DIR, f)))
    : [];
  writeFileSync(out, renderMarkdown(results, relative(REPO_ROOT, jsonPath), others));
  log(`wrote ${relative(process.cwd(), out) || out}`);
}

/**
 * Add a target's entry to the results and, unless it is unavailable here, create its session
 * (not opened yet).
 * @param {import('./targets/index.mjs').Target} target
 * @param {BenchConfig} cfg
 * @param {Loadgen} loadgen
 * @param {number} deadline performance.now() value after which scenarios wind down
 * @param {Results} results
 * @returns {{session: TargetSession, entry: TargetResult}|null} null when the target is skipped
 */
function addTarget(target, cfg, loadgen, deadline, results) {
  /** @type {TargetResult} */
  const entry = {
    name: target.name,
    description: target.description,
    eio: target.eio,
    ...(target.pusher ? { pusher: true } : {}),
    scenarios: {},
    errors: [],
  };
  results.targets.push(entry);
  const why = target.unavailable(cfg);
  if (why) {
    entry.skipped = why;
    log(`${target.name}: SKIPPED: ${why}`);
    return null;
  }
  entry.version = target.version(cfg);
  return { session: new TargetSession(target, cfg, loadgen, log, deadline), entry };
}

/**
 * Run one scenario on one target, once per Engine.IO version it speaks; a failure is recorded in the
 * results and the next version (or target) goes on.
 * @param {string} name scenario key
 * @param {TargetSession} session
 * @param {TargetResult} entry the target's results
 * @param {BenchConfig} cfg
 * @param {Loadgen} loadgen
 */
async function runScenario(name, session, entry, cfg, loadgen) {
  // Scenario results are stored as the scenario returns them (results.d.ts describes how they are read).
  const scenarios = /** @type {Record<string, object[]>} */ (entry.scenarios);
  const na = session.target.notApplicable?.[name];
  if (na) {
    log(`  ${entry.name}: not applicable: ${na}`);
    scenarios[name] = [{ notApplicable: na }];
    return;
  }
  scenarios[name] = [];
  /** @type {import('./lib/eio-client.mjs').ClientKind[]} */
  const kinds = [...session.target.eio];
  if (session.target.pusher && PUSHER_SCENARIOS.has(name)) kinds.push('pusher');
  for (const eio of kinds) {
    if (session.outOfTime()) {
      log(`  ${entry.name} ${kindLabel(eio)}: skipped, time budget exhausted`);
      continue;
    }
    log(`  ${entry.name} (${entry.version}), ${kindLabel(eio)} clients`);
    try {
      scenarios[name].push(await SCENARIOS[name](session, cfg, eio));
    } catch (e) {
      const err = /** @type {Error} */ (e);
      log(`    ERROR: ${err.stack || err}`);
      entry.errors.push({ scenario: name, eio, error: String(err.message || err) });
      scenarios[name].push({ eio, error: String(err.message || err) });
      await loadgen.closeAll().catch(() => {});
      await session.stopServer().catch(() => {});
    }
  }
}

/**
 * Hard stop: whatever happens, children die and the process exits 5 minutes after the run's budget.
 * @param {number} maxMinutes
 */
function armHardStop(maxMinutes) {
  setTimeout(
    () => {
      console.error(`bench: exceeded ${maxMinutes} + 5 minutes, aborting`);
      killAllChildrenSync();
      process.exit(2);
    },
    (maxMinutes + 5) * 60_000,
  ).unref();
}

/**
 * Write the raw results to bench/results/<start time>-<mode>.json.
 * @param {Results} results
 * @param {Date} started
 * @param {string} mode
 * @returns {string} the file's path
 */
function saveResults(results, started, mode) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const jsonPath = resolve(RESULTS_DIR, `${started.toISOString().replace(/[:.]/g, '-').slice(0, 19)}-${mode}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 1)}\n`);
  log(`\nwrote ${relative(process.cwd(), jsonPath)}`);
  return jsonPath;
}

async function main() {
  const cfg = loadConfig(process.argv.slice(2), process.env);
  if (cfg.help) {
    console.log(usage());
    return 0;
  }
  if (cfg.reportOnly) {
    const p = resolve(cfg.reportOnly);
    writeReport(/** @type {Results} */ (JSON.parse(readFileSync(p, 'utf8'))), p, cfg);
    return 0;
  }

  const started = new Date();
  const t0 = performance.now();
  const deadline = t0 + cfg.maxMinutes * 60_000;
  armHardStop(cfg.maxMinutes);

  const targets = pickTargets(cfg.targets);
  const machine = machineInfo();
  log(
    `echo-relay bench (${cfg.mode}) on ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, Redis ${machine.redis}`,
  );
  log(`targets: ${cfg.targets.join(', ')}; scenarios: ${cfg.scenarios.join(', ')}; load-gen threads: ${cfg.workers}`);

  const loadgen = new Loadgen(cfg.workers);
  /** @type {Results} */
  const results = {
    meta: {
      date: started.toISOString(),
      mode: cfg.mode,
      command: `node bench/run.mjs${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
      machine,
      config: cfg,
      durationSec: 0, // set when the run ends
    },
    targets: [],
  };

  // Scenario-major order: every target runs a scenario before the next
  // scenario starts, so slow drifts in machine load hit all targets alike.
  /** @type {{session: TargetSession, entry: TargetResult}[]} */
  const sessions = [];
  try {
    for (const target of targets) {
      const added = addTarget(target, cfg, loadgen, deadline, results);
      if (!added) continue;
      sessions.push(added); // before open(), so a half-opened session is closed too
      await added.session.open();
    }
    for (const name of cfg.scenarios) {
      if (!SCENARIOS[name]) throw new Error(`unknown scenario ${name}`);
      log(`\n== ${TITLES[name]}`);
      for (const { session, entry } of sessions) await runScenario(name, session, entry, cfg, loadgen);
    }
  } finally {
    for (const { session } of sessions) await session.close().catch(() => {});
    await loadgen.terminate();
  }

  results.meta.durationSec = (performance.now() - t0) / 1000;
  writeReport(results, saveResults(results, started, cfg.mode), cfg);
  return results.targets.some((t) => t.errors?.length) ? 1 : 0;
}

// Cleanup on every way out: children are killed even on SIGINT or a crash.
process.on('exit', killAllChildrenSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}, stopping servers`);
    stopAllChildren().finally(() => process.exit(130));
    setTimeout(() => process.exit(130), 4000).unref();
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err.stack || err);
    stopAllChildren().finally(() => process.exit(1));
  },
);
