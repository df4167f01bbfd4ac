#!/usr/bin/env node
// @ts-check
// Failover benchmark: what a Redis failure costs two echo-relay nodes' clients, per topology.
//
//   node bench/failover.mjs [--runs=3] [--topologies=single,sentinel,cluster,cluster-no-replicas]
//                           [--echo-relay-root=DIR] [--out=FILE.json] [--figures=FILE.md]
//
// Each run starts the topology, two echo-relay nodes (dist/main.js) and one socket.io-client per
// node on a public channel, then publishes Laravel's way (RedisBroadcaster's EVAL of PUBLISH,
// one at a time, as a PHP worker does): a steady phase every 10 ms (latency), then every 50 ms
// around the kill of a Redis server with SIGKILL. It reports, per node, the accepted publishes
// lost, duplicates, deliveries out of order, how long the node had no live subscription and
// /ready was 503, and publish→client latency. See bench/README.md, "Failover".

import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import {
  singleTopology,
  sentinelTopology,
  clusterTopology,
  sentinelMasterPort,
  masterOf,
  SENTINEL_DOWN_AFTER_MS,
  CLUSTER_NODE_TIMEOUT_MS,
} from './lib/failover-topologies.mjs';
import { RelayNode } from './lib/failover-node.mjs';
import { laravelPayload, makePad, nowMicros } from './lib/redis.mjs';
import { createHistogram, bucketOf, percentiles } from './lib/histogram.mjs';
import { summarize } from './lib/stats.mjs';
import { machineInfo } from './lib/machine.mjs';
import {
  sleep,
  waitFor,
  makeTempDir,
  removeTempDir,
  killAllChildrenSync,
  stopAllChildren,
  backgroundCpu,
  waitQuiet,
} from './lib/proc.mjs';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const CHANNEL = 'failover';
/** Laravel's RedisBroadcaster script: one payload to every channel given. */
const BROADCAST_SCRIPT = "for i = 2, #ARGV do\n  redis.call('publish', ARGV[i], ARGV[1])\nend";
const STEADY_INTERVAL_MS = 10;
const STEADY_MS = 8000;
const FAILOVER_INTERVAL_MS = 50;
const BEFORE_KILL_MS = 2000;
const AFTER_KILL_MS = 8000;
const DRAIN_MS = 2000;
/** How long after the drain a missing broadcast is still waited for (it then counts as late, in the pause figures). */
const LATE_MS = 20_000;
/** Single Redis and the Cluster without replicas: the killed servers start again this long after the kill. */
const SINGLE_RESTART_MS = 1000;
const NO_REPLICAS_RESTART_MS = 5000;

/**
 * @typedef {import('./lib/failover-topologies.mjs').Topology} Topology
 * @typedef {{seq: number, sentMs: number, ok: boolean, phase: 'steady'|'failover'}} Publish
 * @typedef {{
 *   name: string,
 *   title: string,
 *   subscriptions: number,
 *   start: (dir: string) => Promise<Topology>,
 *   kill: (topo: Topology, nodes: RelayNode[]) => Promise<{victims: string[], restartMs: number|null}>,
 * }} Scenario
 */

/** @type {Scenario[]} */
const SCENARIOS = [
  {
    name: 'single',
    title: 'Single Redis, killed and restarted after 1 s',
    subscriptions: 1,
    start: singleTopology,
    kill: async (topo) => {
      await topo.data[0].kill();
      return { victims: [`127.0.0.1:${topo.data[0].port}`], restartMs: SINGLE_RESTART_MS };
    },
  },
  {
    name: 'sentinel',
    title: `Sentinel, 1 master + 1 replica + 3 sentinels (down-after ${SENTINEL_DOWN_AFTER_MS} ms), master killed`,
    subscriptions: 2,
    start: sentinelTopology,
    kill: async (topo) => {
      const port = await sentinelMasterPort(topo.sentinels);
      const master = topo.data.find((d) => d.port === port);
      if (!master) throw new Error(`sentinels name an unknown master ${port}`);
      await master.kill();
      return { victims: [`127.0.0.1:${port}`], restartMs: null };
    },
  },
  {
    name: 'cluster',
    title: `Cluster, 3 masters + 3 replicas (node timeout ${CLUSTER_NODE_TIMEOUT_MS} ms), a master holding node 0's subscription (or its replica's master) killed`,
    // One on every master.
    subscriptions: 3,
    start: (dir) => clusterTopology(dir, 1),
    kill: async (topo, nodes) => {
      // node 0's own subscriptions first, then node 1's: a master holding one, else the master of a replica that does
      const held = [...nodes[0].heldNodes(), ...nodes[1].heldNodes()];
      let victim = null;
      for (const addr of held) if ((await masterOf(port(addr))) === null) victim ??= addr;
      for (const addr of held) victim ??= await masterOf(port(addr));
      const proc = topo.data.find((d) => `127.0.0.1:${d.port}` === victim);
      if (!proc) throw new Error(`no master to kill among ${held.join(', ')}`);
      await proc.kill();
      return { victims: [/** @type {string} */ (victim)], restartMs: null };
    },
  },
  {
    name: 'cluster-no-replicas',
    title: `Cluster, 3 masters without replicas, one master (holding a subscription of each node) killed, restarted after ${NO_REPLICAS_RESTART_MS / 1000} s`,
    subscriptions: 3,
    start: (dir) => clusterTopology(dir, 0),
    kill: async (topo, nodes) => {
      const held = nodes[0].heldNodes();
      const proc = topo.data.find((d) => held.includes(`127.0.0.1:${d.port}`));
      if (!proc) throw new Error(`node 0 holds no subscription on a known server (${held.join(', ')})`);
      await proc.kill();
      return { victims: [`127.0.0.1:${proc.port}`], restartMs: NO_REPLICAS_RESTART_MS };
    },
  },
];

/** @param {string} addr */
const port = (addr) => Number(addr.slice(addr.lastIndexOf(':') + 1));

/**
 * Parse `--name=value` flags.
 * @returns {{runs: number, topologies: string[], root: string, out: string, figures: string|null}}
 */
function options() {
  /** @type {Record<string, string>} */
  const flags = {};
  for (const a of process.argv.slice(2)) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}`);
    flags[m[1]] = m[2] ?? 'true';
  }
  if (flags.help) {
    console.log(
      'node bench/failover.mjs [--runs=3] [--topologies=single,sentinel,cluster,cluster-no-replicas] [--echo-relay-root=DIR] [--out=FILE.json] [--figures=FILE.md]',
    );
    process.exit(0);
  }
  const date = new Date().toISOString().slice(0, 10);
  return {
    runs: Number(flags.runs ?? 3),
    topologies: (flags.topologies ?? SCENARIOS.map((s) => s.name).join(',')).split(','),
    root: resolve(flags['echo-relay-root'] ?? resolve(BENCH_DIR, '..')),
    out: resolve(flags.out ?? resolve(BENCH_DIR, 'results', `failover-${date}.json`)),
    figures: flags.figures ? resolve(flags.figures) : null,
  };
}

/**
 * Publish one Laravel broadcast every `intervalMs` for `durationMs`, each awaited before the next
 * (a publish that takes longer delays the next to the following tick), so Redis accepts them in
 * `seq` order. `onTick` runs before each publish with the time since the start.
 * @param {import('ioredis').Redis|import('ioredis').Cluster} pub
 * @param {{intervalMs: number, durationMs: number, phase: Publish['phase'], firstSeq: number, pad: string, log: Publish[], onTick?: (ms: number) => void}} o
 * @returns {Promise<number>} the next seq
 */
async function publishFor(pub, { intervalMs, durationMs, phase, firstSeq, pad, log, onTick }) {
  const t0 = performance.now();
  let seq = firstSeq;
  for (let tick = 0; ; tick++) {
    const due = t0 + tick * intervalMs;
    const now = performance.now();
    if (due - t0 >= durationMs) return seq;
    if (due < now - intervalMs) continue; // skipped while the previous publish hung
    await sleep(Math.max(0, due - now));
    onTick?.(performance.now() - t0);
    const sentMs = performance.now();
    const s = seq++;
    const ok = await pub
      .eval(
        BROADCAST_SCRIPT,
        0,
        laravelPayload(s, phase === 'steady' ? 1 : 2, nowMicros(), pad),
        `laravel_database_${CHANNEL}`,
      )
      .then(
        () => true,
        () => false,
      );
    log.push({ seq: s, sentMs, ok, phase });
  }
}

/**
 * Time (ms) the probes saw `bad` true, each probe counting until the next one.
 * @param {import('./lib/failover-node.mjs').Probe[]} probes
 * @param {(p: import('./lib/failover-node.mjs').Probe) => boolean} bad
 * @returns {number}
 */
function badMs(probes, bad) {
  let ms = 0;
  for (let i = 0; i + 1 < probes.length; i++) if (bad(probes[i])) ms += probes[i + 1].t - probes[i].t;
  return Math.round(ms);
}

/**
 * Per-node figures of one run.
 * @param {RelayNode} node
 * @param {Publish[]} publishes
 * @param {number} killAt performance.now() of the kill
 */
function nodeFigures(node, publishes, killAt) {
  const bySeq = new Map();
  let maxSeq = -Infinity;
  let outOfOrder = 0;
  /** @type {string[]} first inversions, `<seq> after <max seq so far>` */
  const outOfOrderSample = [];
  for (const d of node.deliveries) {
    if (d.seq < 0) continue; // warm-up probes
    bySeq.set(d.seq, (bySeq.get(d.seq) ?? 0) + 1);
    if (d.seq < maxSeq) {
      outOfOrder++;
      if (outOfOrderSample.length < 20) outOfOrderSample.push(`${d.seq} after ${maxSeq}`);
    }
    maxSeq = Math.max(maxSeq, d.seq);
  }
  const accepted = publishes.filter((p) => p.ok);
  const lost = accepted.filter((p) => !bySeq.has(p.seq)).map((p) => p.seq);
  const failedButDelivered = publishes.filter((p) => !p.ok && bySeq.has(p.seq)).length;
  let duplicates = 0;
  for (const n of bySeq.values()) duplicates += n - 1;
  const duplicateSeqs = [...bySeq].filter(([, n]) => n > 1).map(([seq]) => seq);
  const phaseOf = new Map(publishes.map((p) => [p.seq, p.phase]));
  const steady = createHistogram();
  const around = createHistogram();
  let worstMs = 0;
  let longestPauseMs = 0;
  let prevT = null;
  for (const d of node.deliveries) {
    const phase = phaseOf.get(d.seq);
    if (phase === 'steady') steady[bucketOf(d.latencyMs)]++;
    if (phase !== 'failover') continue;
    around[bucketOf(d.latencyMs)]++;
    worstMs = Math.max(worstMs, d.latencyMs);
    if (prevT !== null) longestPauseMs = Math.max(longestPauseMs, d.t - prevT);
    prevT = d.t;
  }
  const probes = node.probes.filter((p) => p.t >= killAt - 500);
  const gaps = node.logs
    .filter((l) => l.t >= killAt)
    .map((l) => /after (\d+) ms without one/.exec(l.message))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]));
  const warnings = node.logs.filter((l) => l.t >= killAt && (l.level === 'warn' || l.level === 'error'));
  const [p50, p99] = percentiles(steady, [50, 99]);
  const [fp50, fp99] = percentiles(around, [50, 99]);
  const rel = (/** @type {number} */ t) => Math.round(t - killAt);
  return {
    lost: lost.length,
    lostSeqs: lost,
    duplicates,
    duplicateSeqs,
    outOfOrder,
    outOfOrderSample,
    failedButDelivered,
    noSubscriptionMsLog: gaps.reduce((a, b) => a + b, 0),
    noSubscriptionMsPolled: badMs(probes, (p) => p.subscriptions === 0 || p.subscriptions === null),
    readyDownMs: badMs(probes, (p) => !p.ready),
    readyDownMsByCheck: Object.fromEntries(
      [...new Set(probes.flatMap((p) => p.down))].map((c) => [c, badMs(probes, (p) => p.down.includes(c))]),
    ),
    minSubscriptions: Math.min(...probes.map((p) => p.subscriptions ?? 0)),
    duplicatesMerged: node.probes.at(-1)?.duplicates ?? null,
    steadyP50Ms: p50,
    steadyP99Ms: p99,
    steadySamples: steady.reduce((a, b) => a + b, 0),
    failoverP50Ms: fp50,
    failoverP99Ms: fp99,
    failoverWorstMs: Math.round(worstMs * 10) / 10,
    longestDeliveryPauseMs: Math.round(longestPauseMs),
    subscriptionLog: node.logs
      .filter((l) => l.t >= killAt - 100 && /subscri/i.test(l.message) && l.context === 'RedisSubscriber')
      .map((l) => `+${rel(l.t)} ms ${l.message}`),
    warnings: warnings.length,
    leaseWarnings: warnings.filter((l) => /lease/i.test(l.message)).length,
    warningKinds: [...new Set(warnings.map((l) => `${l.context}: ${l.message.replace(/\d+/g, 'N')}`.slice(0, 200)))],
  };
}

/**
 * One run of one scenario: topology, two nodes, publish, kill, drain, figures; everything
 * started here is stopped before it returns or throws.
 * @param {Scenario} sc
 * @param {number} run
 * @param {string} root
 */
async function runOnce(sc, run, root) {
  const dir = makeTempDir(`echo-failover-${sc.name}-`);
  /** @type {Topology|undefined} */
  let topo;
  /** @type {RelayNode[]} */
  const nodes = [];
  /** @type {(import('ioredis').Redis|import('ioredis').Cluster)|undefined} */
  let pub;
  try {
    const quiet = await waitQuiet([], { maxPct: 25, maxWaitMs: 30_000 });
    topo = await sc.start(dir);
    for (const i of [0, 1]) {
      const node = new RelayNode({ root, dir, env: topo.env, name: `echo-relay-${i}` });
      nodes.push(node);
      await node.start();
    }
    for (const node of nodes) {
      await waitFor(async () => (await node.subscriptions()) === sc.subscriptions, {
        timeoutMs: 20_000,
        what: `${node.name}: ${sc.subscriptions} subscriptions`,
      });
      await node.connectClient(CHANNEL);
    }
    const p = topo.publisher();
    pub = p;
    p.on('error', () => {});
    await waitFor(() => p.status === 'ready', { timeoutMs: 10_000, what: 'publisher connection' });
    const pad = makePad(256);
    // warm-up: negative seqs until both clients have one
    let probe = -1;
    await waitFor(
      async () => {
        await p
          .eval(BROADCAST_SCRIPT, 0, laravelPayload(probe--, 0, nowMicros(), pad), `laravel_database_${CHANNEL}`)
          .catch(() => {});
        await sleep(100);
        return nodes.every((n) => n.deliveries.length > 0);
      },
      { timeoutMs: 20_000, what: 'first delivery on both nodes' },
    );
    for (const n of nodes) n.startPolling();
    const load = backgroundCpu([]);
    /** @type {Publish[]} */
    const publishes = [];
    const next = await publishFor(p, {
      intervalMs: STEADY_INTERVAL_MS,
      durationMs: STEADY_MS,
      phase: 'steady',
      firstSeq: 1,
      pad,
      log: publishes,
    });
    let killAt = 0;
    /** @type {string[][]} */
    let heldBefore = [];
    /** @type {{victims: string[], restartMs: number|null}|undefined} */
    let killed;
    /** @type {Promise<void>|undefined} */
    let killing;
    const t = topo;
    await publishFor(p, {
      intervalMs: FAILOVER_INTERVAL_MS,
      durationMs: BEFORE_KILL_MS + AFTER_KILL_MS,
      phase: 'failover',
      firstSeq: next,
      pad,
      log: publishes,
      onTick: (ms) => {
        if (killing || ms < BEFORE_KILL_MS) return;
        killAt = performance.now();
        heldBefore = nodes.map((n) => n.heldNodes());
        killing = sc.kill(t, nodes).then(async (k) => {
          killed = k;
          if (k.restartMs === null) return;
          await sleep(Math.max(0, killAt + k.restartMs - performance.now()));
          await Promise.all(t.data.filter((d) => !d.alive()).map((d) => d.restart()));
        });
      },
    });
    await killing;
    await sleep(DRAIN_MS);
    // A broadcast held back (the history unwritable until a Cluster is whole again) is late, not
    // lost: wait up to LATE_MS for every accepted one before counting what is missing.
    const accepted = publishes.filter((p) => p.ok).map((p) => p.seq);
    const missing = () => nodes.some((n) => accepted.some((seq) => !n.deliveries.some((d) => d.seq === seq)));
    const lateUntil = performance.now() + LATE_MS;
    while (missing() && performance.now() < lateUntil) await sleep(250);
    for (const n of nodes) n.stopPolling();
    const otherCpuPct = Math.round(load.stop());
    const fig = nodes.map((n) => ({ node: n.name, ...nodeFigures(n, publishes, killAt) }));
    const failover = publishes.filter((x) => x.phase === 'failover');
    return {
      topology: sc.name,
      run,
      victims: killed?.victims,
      heldBefore,
      restartMs: killed?.restartMs,
      otherCpuPct,
      quietBefore: { bgPct: Math.round(quiet.bgPct), waitedMs: Math.round(quiet.waitedMs) },
      steady: {
        published: publishes.length - failover.length,
        failed: publishes.filter((x) => x.phase === 'steady' && !x.ok).length,
      },
      failover: {
        attempted: failover.length,
        accepted: failover.filter((x) => x.ok).length,
        failed: failover.length - failover.filter((x) => x.ok).length,
        failedFromMs: relFirst(
          failover.filter((x) => !x.ok),
          killAt,
        ),
        failedUntilMs: relLast(
          failover.filter((x) => !x.ok),
          killAt,
        ),
      },
      nodes: fig,
    };
  } finally {
    pub?.disconnect();
    await Promise.all(nodes.map((n) => n.stop()));
    await topo?.stop();
    removeTempDir(dir);
  }
}

/**
 * @param {Publish[]} ps
 * @param {number} killAt
 */
const relFirst = (ps, killAt) => (ps.length ? Math.round(ps[0].sentMs - killAt) : null);
/**
 * @param {Publish[]} ps
 * @param {number} killAt
 */
const relLast = (ps, killAt) => (ps.length ? Math.round(/** @type {Publish} */ (ps.at(-1)).sentMs - killAt) : null);

/** @typedef {Awaited<ReturnType<typeof runOnce>>} Run */

/**
 * Per-topology summary over runs and both nodes.
 * @param {Run[]} runs
 */
function summarizeRuns(runs) {
  const nodes = runs.flatMap((r) => r.nodes);
  /** @param {(n: Run['nodes'][number]) => number|null} f */
  const s = (f) => summarize(nodes.map(f));
  /** @param {(n: Run['nodes'][number]) => number} f */
  const total = (f) => nodes.reduce((a, n) => a + f(n), 0);
  return {
    runs: runs.length,
    accepted: summarize(runs.map((r) => r.failover.accepted)),
    failed: summarize(runs.map((r) => r.failover.failed)),
    lostTotal: total((n) => n.lost),
    acceptedTotal: runs.reduce((a, r) => a + r.failover.accepted + r.steady.published - r.steady.failed, 0) * 2,
    duplicatesTotal: total((n) => n.duplicates),
    outOfOrderTotal: total((n) => n.outOfOrder),
    lostPerNode: s((n) => n.lost),
    noSubscriptionMs: s((n) => n.noSubscriptionMsPolled),
    noSubscriptionMsLog: s((n) => n.noSubscriptionMsLog),
    readyDownMs: s((n) => n.readyDownMs),
    longestDeliveryPauseMs: s((n) => n.longestDeliveryPauseMs),
    steadyP50Ms: s((n) => n.steadyP50Ms),
    steadyP99Ms: s((n) => n.steadyP99Ms),
    failoverWorstMs: s((n) => n.failoverWorstMs),
    warnings: total((n) => n.warnings),
    otherCpuPct: summarize(runs.map((r) => r.otherCpuPct)),
  };
}

/**
 * `median (min–max)` of a summary.
 * @param {import('./lib/stats.mjs').Summary} x
 * @param {number} [digits]
 */
const spread = (x, digits = 0) => {
  if (x.median === null) return '–';
  const f = (/** @type {number|null} */ v) => (v === null ? '–' : v.toFixed(digits));
  return x.min === x.max ? f(x.median) : `${f(x.median)} (${f(x.min)}–${f(x.max)})`;
};

/**
 * The markdown table for the README.
 * @param {Record<string, ReturnType<typeof summarizeRuns>>} summary
 * @returns {string}
 */
function figuresTable(summary) {
  const rows = [
    '| topology, failure | runs | publishes failed / accepted (per run) | accepted events lost (all runs, both nodes) | duplicates / out of order | no live subscription, ms | `/ready` 503, ms | longest delivery pause, ms | latency p50 / p99 steady, ms | worst latency in failover, ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const sc of SCENARIOS) {
    const x = summary[sc.name];
    if (!x) continue;
    rows.push(
      `| ${sc.title} | ${x.runs} | ${spread(x.failed)} / ${spread(x.accepted)} | ${x.lostTotal} of ${x.acceptedTotal} | ${x.duplicatesTotal} / ${x.outOfOrderTotal} | ${spread(x.noSubscriptionMs)} | ${spread(x.readyDownMs)} | ${spread(x.longestDeliveryPauseMs)} | ${spread(x.steadyP50Ms, 1)} / ${spread(x.steadyP99Ms, 1)} | ${spread(x.failoverWorstMs)} |`,
    );
  }
  return rows.join('\n');
}

async function main() {
  const opts = options();
  const scenarios = opts.topologies.map((name) => {
    const sc = SCENARIOS.find((s) => s.name === name);
    if (!sc) throw new Error(`unknown topology ${name} (${SCENARIOS.map((s) => s.name).join(', ')})`);
    return sc;
  });
  /** @type {Run[]} */
  const runs = [];
  for (let run = 1; run <= opts.runs; run++) {
    for (const sc of scenarios) {
      console.log(`${sc.name} run ${run}/${opts.runs} ...`);
      const r = await runOnce(sc, run, opts.root);
      runs.push(r);
      for (const n of r.nodes) {
        console.log(
          `  ${n.node}: lost ${n.lost}, dup ${n.duplicates}, ooo ${n.outOfOrder}, no-sub ${n.noSubscriptionMsPolled} ms (log ${n.noSubscriptionMsLog}), ready-503 ${n.readyDownMs} ms, pause ${n.longestDeliveryPauseMs} ms, p50/p99 ${n.steadyP50Ms}/${n.steadyP99Ms}, worst ${n.failoverWorstMs} ms, warnings ${n.warnings}`,
        );
      }
      console.log(`  publishes: ${r.failover.failed} failed of ${r.failover.attempted}; other CPU ${r.otherCpuPct}%`);
    }
  }
  /** @type {Record<string, ReturnType<typeof summarizeRuns>>} */
  const summary = {};
  for (const sc of scenarios) summary[sc.name] = summarizeRuns(runs.filter((r) => r.topology === sc.name));
  const results = {
    date: new Date().toISOString(),
    machine: machineInfo(),
    settings: {
      steady: { intervalMs: STEADY_INTERVAL_MS, durationMs: STEADY_MS },
      failover: { intervalMs: FAILOVER_INTERVAL_MS, beforeKillMs: BEFORE_KILL_MS, afterKillMs: AFTER_KILL_MS },
      drainMs: DRAIN_MS,
      sentinelDownAfterMs: SENTINEL_DOWN_AFTER_MS,
      clusterNodeTimeoutMs: CLUSTER_NODE_TIMEOUT_MS,
      recovery: 'on (default)',
    },
    summary,
    runs,
  };
  mkdirSync(resolve(opts.out, '..'), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
  const table = figuresTable(summary);
  if (opts.figures) writeFileSync(opts.figures, `${table}\n`);
  console.log(`\n${table}\n\nwrote ${opts.out}`);
}

process.on('exit', killAllChildrenSync);
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.on(sig, () => {
    stopAllChildren().finally(() => process.exit(130));
    setTimeout(() => process.exit(130), 4000).unref();
  });
}
// Hard stop: children die even if a run hangs.
setTimeout(() => {
  console.error('failover bench: over 40 minutes, aborting');
  process.exit(2);
}, 40 * 60_000).unref();
main().then(
  () => stopAllChildren().then(() => process.exit(0)),
  (err) => {
    console.error(err);
    stopAllChildren().finally(() => process.exit(1));
  },
);
