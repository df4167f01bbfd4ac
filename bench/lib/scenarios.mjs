// @ts-check
// The benchmark scenarios. Each receives a TargetSession (see session.mjs),
// which starts/stops the target server and owns the load generator and the
// Redis publisher, plus that scenario's parameters.

import { pacedPublish, publishProbes } from './redis.mjs';
import { sampleProcess, sleep, backgroundCpu, waitQuiet } from './proc.mjs';
import { wsUrl } from './eio-client.mjs';
import { summarizeFields } from './stats.mjs';
import { startAuthStub } from './auth-stub.mjs';
import { createHistogram, mergeInto, percentiles } from './histogram.mjs';

/**
 * @typedef {Awaited<ReturnType<typeof measureStep>>} StepMeasurement one publish step's figures
 * @typedef {Awaited<ReturnType<typeof connectClients>> & {
 *   baseRssMiB: number, rssMiB: number, rssPerConnKiB: number|null, connectCpuMsPerConn: number|null,
 *   idleCpuPct: number, dropped: number,
 * }} S1Rep one S1 repetition
 * @typedef {{durationMs: number, channelOf: (i: number) => string, expectedOf: (perChannel: Map<string, number>) => number}} StepOpts
 * @typedef {{rate: number, skipped: string, reps?: undefined, summary?: undefined}
 *   | {rate: number, targetDeliveriesPerSec: number, reps: StepMeasurement[], summary: StepSummary}} LadderStep
 *   one rate of a rate ladder: its repetitions and their summary, or why it was skipped
 * @typedef {Record<(typeof STEP_FIELDS)[number], import('./stats.mjs').Summary>} StepSummary
 */

export const CH = 'bench-'; // channel name = CH + index
const KiB = 1024;

/**
 * Fields of a load step that get median/min/max summaries.
 * @type {(keyof StepMeasurement)[]}
 */
export const STEP_FIELDS = [
  'deliveriesPerSec',
  'p50',
  'p99',
  'p999',
  'lossPct',
  'serverCpuPct',
  'perCpuSec',
  'loadgenCpuPct',
  'redisCpuPct',
  'backgroundCpuPct',
];

/**
 * Connect clients and wait until every subscription is live (probe seen on each channel).
 * @param {import('./session.mjs').TargetSession} s
 * @param {import('./eio-client.mjs').ClientKind} eio
 * @param {number[][]} clients channel indices per client
 * @param {number[]} channels distinct channel indices to probe
 * @returns {Promise<{connected: number, failed: number, ms: number, connectMs: number, connectRate: number|null, ready: number, readyMs: number}>}
 */
async function connectClients(s, eio, clients, channels) {
  const { publisher } = s.live();
  const c = await s.loadgen.connect({
    url: wsUrl(s.port, eio),
    eio,
    clients,
    channelPrefix: CH,
    concurrency: s.opts.connectConcurrency,
    timeoutMs: s.opts.connectTimeoutMs,
  });
  const probeList = channels.map((index) => ({ name: CH + index, index }));
  const expected = s.loadgen.open();
  const p = await s.loadgen.waitProbes(() => publishProbes(publisher, probeList, ''), expected, s.opts.probeTimeoutMs);
  return {
    ...c,
    connectMs: c.ms,
    connectRate: c.ms > 0 ? (c.connected * 1000) / c.ms : null,
    ready: p.ready,
    readyMs: p.ms,
  };
}

/**
 * Publish at `rate` for `durationMs`, wait for deliveries to drain, and measure
 * latency, loss, throughput and server CPU for that window.
 * @param {import('./session.mjs').TargetSession} s
 * @param {object} o
 * @param {number} o.rate messages/s
 * @param {number} o.durationMs
 * @param {(i: number) => string} o.channelOf
 * @param {(perChannel: Map<string, number>) => number} o.expectedOf deliveries the published messages should yield
 * @param {boolean} [o.record] false for warm-up
 */
async function measureStep(s, { rate, durationMs, channelOf, expectedOf, record = true }) {
  const lg = s.loadgen;
  const { server, redis, publisher } = s.live();
  const quiet = record ? await waitQuiet([server.pid, redis.pid], s.opts.quiet) : null;
  if (quiet && !quiet.quiet)
    s.log(
      `    (machine busy: other processes at ${quiet.bgPct.toFixed(0)}% of a core after waiting ${Math.round(quiet.waitedMs / 1000)} s)`,
    );
  const step = s.nextStep();
  await lg.begin(step);
  const dropped0 = lg.dropped();
  const srv0 = sampleProcess(server.pid);
  const red0 = sampleProcess(redis.pid);
  const lg0 = process.cpuUsage();
  const bg = backgroundCpu([server.pid, redis.pid]);
  const t0 = performance.now();
  const pub = await pacedPublish({ redis: publisher, rate, durationMs, step, channelOf, pad: s.pad });
  const expected = expectedOf(pub.perChannel);
  const tPub = performance.now();
  const tEnd = Math.max(await drain(s, expected, tPub), tPub);
  const srv1 = sampleProcess(server.pid);
  const red1 = sampleProcess(redis.pid);
  const lgCpu = process.cpuUsage(lg0);
  const bgCpuPct = bg.stop();
  const res = await lg.collect();
  const windowSec = (tEnd - t0) / 1000;
  const serverCpuSec = srv1.cpuSec - srv0.cpuSec;
  const out = {
    rate,
    published: pub.published,
    publishSec: pub.elapsedMs / 1000,
    expected,
    delivered: res.count,
    lost: Math.max(0, expected - res.count),
    lossPct: expected ? (100 * Math.max(0, expected - res.count)) / expected : 0,
    deliveriesPerSec: res.count / windowSec,
    targetDeliveriesPerSec: (expected / pub.published) * rate,
    p50: res.p50,
    p99: res.p99,
    p999: res.p999,
    maxMs: res.max,
    meanMs: res.mean,
    drainMs: tEnd - tPub,
    serverCpuSec,
    serverCpuPct: (100 * serverCpuSec) / windowSec,
    perCpuSec: serverCpuSec > 0 ? res.count / serverCpuSec : null,
    serverRssMiB: srv1.rssBytes / 2 ** 20,
    redisCpuPct: (100 * (red1.cpuSec - red0.cpuSec)) / windowSec,
    loadgenCpuPct: (100 * (lgCpu.user + lgCpu.system)) / 1e6 / windowSec,
    backgroundCpuPct: bgCpuPct,
    quietWaitMs: quiet?.waitedMs ?? 0,
    dropped: lg.dropped() - dropped0,
    strayBefore: res.stray, // late deliveries of earlier steps seen during this one
    lateDeliveries: 0, // set below
  };
  out.lateDeliveries = (await waitLateDeliveries(s)) - res.stray;
  if (record) s.log(`    ${fmtStep(out)}`);
  return out;
}

/**
 * Wait for a step's deliveries: until all expected arrived, or none arrived for drainQuietMs, or
 * maxDrainMs after publishing ended.
 * @param {import('./session.mjs').TargetSession} s
 * @param {number} expected
 * @param {number} tPub performance.now() when publishing ended
 * @returns {Promise<number>} performance.now() of the last progress seen
 */
async function drain(s, expected, tPub) {
  const lg = s.loadgen;
  let last = lg.received();
  let tLast = performance.now();
  while (last < expected) {
    await sleep(10);
    const now = performance.now();
    const r = lg.received();
    if (r !== last) {
      last = r;
      tLast = now;
    } else if (now - tLast > s.opts.drainQuietMs || now - tPub > s.opts.maxDrainMs) break;
  }
  return tLast;
}

/**
 * An overloaded server keeps sending the backlog after the drain gave up; wait (bounded by
 * maxDrainMs) until those late deliveries stop for settleMs so they don't load the next step.
 * @param {import('./session.mjs').TargetSession} s
 * @returns {Promise<number>} the stray-delivery counter when they stopped
 */
async function waitLateDeliveries(s) {
  const lg = s.loadgen;
  let stray = lg.stray();
  const tSettle = performance.now();
  for (
    let quietSince = tSettle;
    performance.now() - quietSince < s.opts.settleMs && performance.now() - tSettle < s.opts.maxDrainMs;
  ) {
    await sleep(50);
    const now = lg.stray();
    if (now !== stray) {
      stray = now;
      quietSince = performance.now();
    }
  }
  return stray;
}

/** @param {StepMeasurement} r */
function fmtStep(r) {
  /**
   * @param {number|null} x
   * @param {number} [d]
   */
  const f = (x, d = 1) => (x == null ? '-' : x.toFixed(d));
  return (
    `${r.rate} msg/s: ${Math.round(r.deliveriesPerSec)} del/s p50 ${f(r.p50)} p99 ${f(r.p99)} ms ` +
    `loss ${f(r.lossPct, 2)}% srv ${f(r.serverCpuPct, 0)}% CPU ${r.perCpuSec ? Math.round(r.perCpuSec) : '-'} del/CPU-s ` +
    `lg ${f(r.loadgenCpuPct, 0)}% bg ${f(r.backgroundCpuPct, 0)}%${r.dropped ? ` dropped ${r.dropped}` : ''}`
  );
}

/**
 * Run repetitions of a load step at each rate (ascending); stop climbing once
 * a rate is clearly saturated.
 * @param {import('./session.mjs').TargetSession} s
 * @param {number[]} rates
 * @param {number} reps
 * @param {StepOpts} stepOpts passed to measureStep (minus rate)
 * @returns {Promise<LadderStep[]>} one entry per rate
 */
async function rateLadder(s, rates, reps, stepOpts) {
  /** @type {LadderStep[]} */
  const out = [];
  let saturated = false;
  for (const rate of rates) {
    if (saturated || s.outOfTime()) {
      out.push({ rate, skipped: saturated ? 'previous rate saturated the server' : 'time budget exhausted' });
      continue;
    }
    /** @type {StepMeasurement[]} */
    const runs = [];
    for (let k = 0; k < reps; k++) runs.push(await measureStep(s, { ...stepOpts, rate }));
    const summary = summarizeFields(runs, STEP_FIELDS);
    out.push({ rate, targetDeliveriesPerSec: runs[0].targetDeliveriesPerSec, reps: runs, summary });
    if ((summary.lossPct.median ?? 0) > s.opts.saturationLossPct || (summary.p99.median ?? 0) > s.opts.saturationP99Ms)
      saturated = true;
  }
  return out;
}

/**
 * S1 idle: N connections spread over C channels. Connect rate, RSS per
 * connection (server RSS delta / connections) and idle server CPU. Each
 * repetition uses a fresh server so the RSS baseline is clean.
 * @param {import('./session.mjs').TargetSession} s
 * @param {{connections: number, channels: number, reps: number, settleMs: number, idleMs: number}} p
 * @param {3|4} eio
 */
export async function s1Idle(s, p, eio) {
  /** @type {S1Rep[]} */
  const runs = [];
  for (let k = 0; k < p.reps && !s.outOfTime(); k++) {
    await s.startServer(eio);
    try {
      const { server, redis } = s.live();
      await sleep(p.settleMs);
      await waitQuiet([server.pid, redis.pid], s.opts.quiet);
      const base = sampleProcess(server.pid);
      const dropped0 = s.loadgen.dropped();
      const clients = Array.from({ length: p.connections }, (_, i) => [i % p.channels]);
      const c = await connectClients(s, eio, clients, [...Array(Math.min(p.channels, p.connections)).keys()]);
      const connected = sampleProcess(server.pid);
      await sleep(p.settleMs);
      const loaded = sampleProcess(server.pid);
      const t0 = performance.now();
      await sleep(p.idleMs);
      const idle = sampleProcess(server.pid);
      const idleSec = (performance.now() - t0) / 1000;
      /** @type {S1Rep} */
      const r = {
        ...c,
        baseRssMiB: base.rssBytes / 2 ** 20,
        rssMiB: loaded.rssBytes / 2 ** 20,
        rssPerConnKiB: c.connected ? (loaded.rssBytes - base.rssBytes) / KiB / c.connected : null,
        connectCpuMsPerConn: c.connected ? ((connected.cpuSec - base.cpuSec) * 1000) / c.connected : null,
        idleCpuPct: (100 * (idle.cpuSec - loaded.cpuSec)) / idleSec,
        dropped: s.loadgen.dropped() - dropped0,
      };
      s.log(
        `    ${r.connected}/${p.connections} connected in ${Math.round(r.connectMs)} ms (${Math.round(r.connectRate ?? 0)}/s), ` +
          `${r.connectCpuMsPerConn?.toFixed(2)} server CPU ms/conn, ready ${r.ready}, RSS ${r.baseRssMiB.toFixed(1)} -> ${r.rssMiB.toFixed(1)} MiB = ${r.rssPerConnKiB?.toFixed(1)} KiB/conn, idle CPU ${r.idleCpuPct.toFixed(1)}%`,
      );
      runs.push(r);
    } finally {
      await s.loadgen.closeAll();
      await s.stopServer();
    }
  }
  return {
    eio,
    params: p,
    reps: runs,
    summary: summarizeFields(runs, ['connectRate', 'connectCpuMsPerConn', 'rssPerConnKiB', 'idleCpuPct', 'readyMs']),
  };
}

/**
 * S1 max: climb through connection levels on one server and hold the top one
 * for `holdMs` (longer than a ping interval) to check nothing drops.
 * @param {import('./session.mjs').TargetSession} s
 * @param {{levels: number[], channels: number, holdMs: number, settleMs: number}} p
 * @param {3|4} eio
 */
export async function s1Max(s, p, eio) {
  await s.startServer(eio);
  try {
    await sleep(p.settleMs);
    const base = sampleProcess(s.live().server.pid);
    const dropped0 = s.loadgen.dropped();
    const { levels, held } = await climbLevels(s, p, eio, base.rssBytes, dropped0);
    if (held) {
      const hold = await holdLevel(s, p.holdMs, held, dropped0);
      return { eio, params: p, levels, hold, maxHeld: hold.stillOpen < held ? null : held };
    }
    return { eio, params: p, levels, maxHeld: null };
  } finally {
    const closed = await s.loadgen.closeAll();
    if (Object.keys(closed.reasons).length) s.log(`    close reasons: ${JSON.stringify(closed.reasons)}`);
    await s.stopServer();
  }
}

/**
 * Add connections up to each of `p.levels` in turn on the running server; stop at the first level
 * where a connect failed, a client never became ready or one dropped.
 * @param {import('./session.mjs').TargetSession} s
 * @param {{levels: number[], channels: number, settleMs: number}} p
 * @param {3|4} eio
 * @param {number} baseRss server RSS (bytes) before any connection
 * @param {number} dropped0 the load generator's dropped count before any connection
 * @returns {Promise<{levels: (Awaited<ReturnType<typeof connectClients>> & {level: number, open: number, rssMiB: number, rssPerConnKiB: number, ok: boolean})[], held: number}>}
 *   one record per level tried, and the highest level reached without trouble (0: none)
 */
async function climbLevels(s, p, eio, baseRss, dropped0) {
  const { server } = s.live();
  const levels = [];
  let held = 0;
  let have = 0;
  for (const level of p.levels) {
    if (s.outOfTime()) break;
    const clients = Array.from({ length: level - have }, (_, i) => [(have + i) % p.channels]);
    const c = await connectClients(s, eio, clients, [...Array(p.channels).keys()]);
    have += c.connected;
    await sleep(p.settleMs);
    const m = sampleProcess(server.pid);
    const ok = c.failed === 0 && c.ready >= level && s.loadgen.dropped() === dropped0;
    const r = {
      level,
      ...c,
      open: s.loadgen.open(),
      rssMiB: m.rssBytes / 2 ** 20,
      rssPerConnKiB: (m.rssBytes - baseRss) / KiB / have,
      ok,
    };
    s.log(
      `    level ${level}: open ${r.open}, failed ${c.failed}, ready ${c.ready}, ${r.rssPerConnKiB.toFixed(1)} KiB/conn ${ok ? 'ok' : 'FAILED'}`,
    );
    levels.push(r);
    if (!ok) break;
    held = level;
  }
  return { levels, held };
}

/**
 * Keep `held` connections open and idle for `holdMs`; report how many survived and the idle CPU.
 * @param {import('./session.mjs').TargetSession} s
 * @param {number} holdMs
 * @param {number} held connections open at the start
 * @param {number} dropped0 the load generator's dropped count before the connections were made
 */
async function holdLevel(s, holdMs, held, dropped0) {
  const { server } = s.live();
  const t0 = performance.now();
  const c0 = sampleProcess(server.pid);
  await sleep(holdMs);
  const c1 = sampleProcess(server.pid);
  const stillOpen = s.loadgen.open();
  const hold = {
    level: held,
    holdMs,
    stillOpen,
    dropped: s.loadgen.dropped() - dropped0,
    idleCpuPct: (100 * (c1.cpuSec - c0.cpuSec)) / ((performance.now() - t0) / 1000),
    rssMiB: c1.rssBytes / 2 ** 20,
  };
  s.log(`    held ${stillOpen}/${held} for ${holdMs / 1000} s, idle CPU ${hold.idleCpuPct.toFixed(1)}%`);
  return hold;
}

/**
 * S2 fan-out: `subscribers` clients on one channel, stepped publish rates.
 * @param {import('./session.mjs').TargetSession} s
 * @param {{subscribers: number, rates: number[], reps: number, stepMs: number, warmupMs: number}} p
 * @param {import('./eio-client.mjs').ClientKind} eio
 */
export async function s2FanOut(s, p, eio) {
  await s.startServer(eio);
  try {
    const clients = Array.from({ length: p.subscribers }, () => [0]);
    const c = await connectClients(s, eio, clients, [0]);
    s.log(`    ${c.ready}/${p.subscribers} subscribers ready`);
    if (c.ready < p.subscribers) throw new Error(`only ${c.ready}/${p.subscribers} subscribers ready`);
    const n = c.ready;
    /** @type {StepOpts} */
    const stepOpts = {
      durationMs: p.stepMs,
      channelOf: () => CH + 0,
      expectedOf: (perChannel) => (perChannel.get(CH + 0) ?? 0) * n,
    };
    await measureStep(s, { ...stepOpts, rate: p.rates[0], durationMs: p.warmupMs, record: false });
    const steps = await rateLadder(s, p.rates, p.reps, stepOpts);
    return { eio, params: p, subscribers: n, steps, ...fanOutSummary(steps) };
  } finally {
    await s.loadgen.closeAll();
    await s.stopServer();
  }
}

/**
 * Headline numbers of a rate ladder: highest median deliveries/s with median
 * p99 under the limit and zero loss in every repetition, and deliveries per
 * server CPU-second over all measured steps (total deliveries / total CPU).
 * @param {LadderStep[]} steps
 * @param {number} [p99LimitMs]
 * @returns {{sustained: {rate: number, deliveriesPerSec: number|null, p99: number}|null, perCpuSecAll: number|null}}
 */
export function fanOutSummary(steps, p99LimitMs = 100) {
  /** @type {{rate: number, deliveriesPerSec: number|null, p99: number}|null} */
  let sustained = null;
  let del = 0;
  let cpu = 0;
  for (const st of steps) {
    if (!st.reps) continue;
    for (const r of st.reps) {
      del += r.delivered;
      cpu += r.serverCpuSec;
    }
    const noLoss = st.reps.every((r) => r.lost === 0 && r.dropped === 0);
    if (noLoss && st.summary.p99.median != null && st.summary.p99.median < p99LimitMs) {
      if (!sustained || Number(st.summary.deliveriesPerSec.median) > Number(sustained.deliveriesPerSec)) {
        sustained = { rate: st.rate, deliveriesPerSec: st.summary.deliveriesPerSec.median, p99: st.summary.p99.median };
      }
    }
  }
  return { sustained, perCpuSecAll: cpu > 0 ? del / cpu : null };
}

/**
 * S3's traffic: which channel the i-th broadcast goes to (channel 0 is shared, client i owns channel
 * i + 1; `sharedRate` of every `rate` broadcasts on the shared one, spread evenly through the stream,
 * the rest round-robin over the owned ones), and the deliveries owed for the broadcasts sent per channel.
 * @param {{clients: number, rate: number, sharedRate: number}} p
 * @returns {{channelOf: (i: number) => string, expectedOf: (perChannel: Map<string, number>) => number}}
 */
export function s3Traffic(p) {
  let own = 0;
  return {
    channelOf: (i) => {
      if (Math.floor(((i + 1) * p.sharedRate) / p.rate) > Math.floor((i * p.sharedRate) / p.rate)) return CH + 0;
      own = (own % p.clients) + 1;
      return CH + own;
    },
    expectedOf: (perChannel) => {
      let e = 0;
      for (const [ch, k] of perChannel) e += ch === CH + 0 ? k * p.clients : k;
      return e;
    },
  };
}

/**
 * S3 many channels: every client on its own channel plus one shared channel;
 * `rate` msg/s in total, `sharedRate` of them to the shared channel, the rest
 * round-robin over the private ones.
 * @param {import('./session.mjs').TargetSession} s
 * @param {{clients: number, rate: number, sharedRate: number, reps: number, stepMs: number, warmupMs: number}} p
 * @param {import('./eio-client.mjs').ClientKind} eio
 */
export async function s3ManyChannels(s, p, eio) {
  await s.startServer(eio);
  try {
    // channel 0 is shared; client i owns channel i + 1
    const clients = Array.from({ length: p.clients }, (_, i) => [i + 1, 0]);
    const c = await connectClients(s, eio, clients, [...Array(p.clients + 1).keys()]);
    s.log(`    ${c.ready}/${p.clients} clients ready on ${p.clients + 1} channels`);
    if (c.ready < p.clients) throw new Error(`only ${c.ready}/${p.clients} clients ready`);
    const { channelOf, expectedOf } = s3Traffic(p);
    await measureStep(s, { rate: p.rate, durationMs: p.warmupMs, channelOf, expectedOf, record: false });
    /** @type {StepMeasurement[]} */
    const reps = [];
    for (let k = 0; k < p.reps && !s.outOfTime(); k++)
      reps.push(await measureStep(s, { rate: p.rate, durationMs: p.stepMs, channelOf, expectedOf }));
    return { eio, params: p, reps, summary: summarizeFields(reps, STEP_FIELDS) };
  } finally {
    await s.loadgen.closeAll();
    await s.stopServer();
  }
}

const PRESENCE_CH = 'presence-bench-'; // presence channel name = PRESENCE_CH + room
const OBSERVER_USER = 1_000_000; // observer of room r is user OBSERVER_USER + r

/**
 * Small deterministic PRNG (mulberry32) so every target gets the same plan.
 * @param {number} seed
 * @returns {() => number} uniform in [0, 1)
 */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The S4 sockets: user u (1-based) sits in room (u - 1) % rooms, the first
 * `doubleUsers` users with two sockets there; which sockets churn, how they
 * leave and whether they end absent is drawn from a fixed seed.
 * @param {{rooms: number, users: number, doubleUsers: number, churnShare: number, disconnectShare: number}} p
 * @returns {import('./presence-client.mjs').PresenceSocket[]}
 */
function presencePlan(p) {
  const rnd = prng(0x5eed);
  /** @type {import('./presence-client.mjs').PresenceSocket[]} */
  const out = [];
  for (let u = 1; u <= p.users; u++) {
    const room = (u - 1) % p.rooms;
    for (let k = u <= p.doubleUsers ? 2 : 1; k > 0; k--) {
      const churn = rnd() < p.churnShare;
      /** @type {'disconnect'|'unsubscribe'} */
      const mode = churn && rnd() < p.disconnectShare ? 'disconnect' : 'unsubscribe';
      const endAbsent = churn && rnd() < 0.5;
      out.push({ user: u, room, channel: PRESENCE_CH + room, churn, mode, endAbsent });
    }
  }
  return out;
}

/**
 * Deal items round-robin into `n` shares.
 * @template T
 * @param {T[]} items
 * @param {number} n
 * @returns {T[][]}
 */
function deal(items, n) {
  const shares = Array.from({ length: n }, () => /** @type {T[]} */ ([]));
  items.forEach((x, i) => shares[i % n].push(x));
  return shares;
}

/**
 * Merge the workers' phase counters.
 * @param {import('./presence-client.mjs').PhaseStats[]} rs per-worker stats from presence-client.mjs
 * @returns {{sent: number, joins: number, leaves: number, errors: number, skipped: number, statuses: Record<string, number>, firstSent: number, lastAck: number, p50: number|null, p99: number|null}}
 */
function mergePhase(rs) {
  const hist = createHistogram();
  /** @type {ReturnType<typeof mergePhase>} */
  const out = {
    sent: 0,
    joins: 0,
    leaves: 0,
    errors: 0,
    skipped: 0,
    statuses: {},
    firstSent: Infinity,
    lastAck: 0,
    p50: null, // set below, from the merged histogram
    p99: null,
  };
  for (const r of rs) {
    for (const k of /** @type {const} */ (['sent', 'joins', 'leaves', 'errors', 'skipped'])) out[k] += r[k] ?? 0;
    for (const [k, v] of Object.entries(r.statuses ?? {})) out.statuses[k] = (out.statuses[k] ?? 0) + v;
    if (r.firstSent) out.firstSent = Math.min(out.firstSent, r.firstSent);
    out.lastAck = Math.max(out.lastAck, r.lastAck ?? 0);
    mergeInto(hist, r.hist);
  }
  if (!Number.isFinite(out.firstSent)) out.firstSent = 0;
  [out.p50, out.p99] = percentiles(hist, [50, 99]);
  return out;
}

/**
 * CPU of the server and its redis-server between two samples.
 * @param {import('./session.mjs').TargetSession} s
 * @returns {() => {serverCpuSec: number, redisCpuSec: number}} call to close the window
 */
function cpuWindow(s) {
  const { server, redis } = s.live();
  const srv0 = sampleProcess(server.pid);
  const red0 = sampleProcess(redis.pid);
  return () => ({
    serverCpuSec: sampleProcess(server.pid).cpuSec - srv0.cpuSec,
    redisCpuSec: sampleProcess(redis.pid).cpuSec - red0.cpuSec,
  });
}

/**
 * The error a crashed server printed, in one line: the first `...Error: ...`
 * line and the first stack frame after it.
 * @param {string} tail server output
 * @returns {string}
 */
function crashLine(tail) {
  // strip the ANSI colour codes servers put in their logs
  // eslint-disable-next-line no-control-regex -- ESC is exactly the character to match
  const lines = tail.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  const k = lines.findIndex((l) => /^\w*Error\b/.test(l.trim()));
  if (k < 0) return lines.filter((l) => l.trim()).at(-1) ?? 'no output';
  const at = lines.slice(k + 1).find((l) => l.trim().startsWith('at '));
  return `${lines[k].trim()}${at ? ` ${at.trim().replace(/\/\S*node_modules\//, '')}` : ''}`;
}

/**
 * Compare the server's member lists with who is really there: one fresh
 * observer socket per room subscribes and reads its `presence:subscribed`
 * (ghosts: listed but gone; missing: there but not listed), and every joined
 * socket's own list, kept from the events it received, is checked the same way.
 * @param {import('./session.mjs').TargetSession} s
 * @param {{url: string, eio: 3|4, rooms: number, observerBase: number}} o observer of room r is user observerBase + r
 */
async function checkMembers(s, { url, eio, rooms, observerBase }) {
  const lg = s.loadgen;
  const snaps = await lg.callAll({ cmd: 'presenceSnapshot' });
  const present = Array.from({ length: rooms }, () => /** @type {Set<string>} */ (new Set()));
  const uncertain = Array.from({ length: rooms }, () => /** @type {Set<string>} */ (new Set()));
  /** @type {Record<string, number>} */
  const states = {};
  /** @type {Record<string, number>} */
  const events = {};
  for (const sn of snaps) {
    for (const [room, user] of sn.present) present[room].add(String(user));
    for (const [room, user] of sn.uncertain) uncertain[room].add(String(user));
    for (const [k, v] of Object.entries(sn.states)) states[k] = (states[k] ?? 0) + v;
    for (const [k, v] of Object.entries(sn.events)) events[k] = (events[k] ?? 0) + v;
  }
  /**
   * @param {number} room
   * @param {Set<string>} listed
   */
  const diff = (room, listed) => ({
    ghosts: [...listed].filter((u) => !present[room].has(u) && !uncertain[room].has(u)),
    missing: [...present[room]].filter((u) => !listed.has(u)),
  });
  const views = checkViews(snaps, diff);
  const observed = await observeRooms(s, { url, eio, rooms, observerBase });
  /** @type {string[]} */
  const ghosts = [];
  /** @type {string[]} */
  const missing = [];
  /** @type {string[]} */
  const observerErrors = [];
  for (const o of observed) {
    if (!o.ids) {
      observerErrors.push(`room ${o.room}: ${o.error}`);
      continue;
    }
    const d = diff(o.room, new Set(o.ids.filter((/** @type {string} */ u) => u !== String(observerBase + o.room))));
    for (const u of d.ghosts) ghosts.push(`${PRESENCE_CH}${o.room}:${u}`);
    for (const u of d.missing) missing.push(`${PRESENCE_CH}${o.room}:${u}`);
  }
  const r = {
    presentUsers: present.reduce((x, set) => x + set.size, 0),
    uncertainUsers: uncertain.reduce((x, set) => x + set.size, 0),
    roomsObserved: observed.length - observerErrors.length,
    ghosts: ghosts.length,
    missing: missing.length,
    ghostSample: ghosts.slice(0, 10),
    missingSample: missing.slice(0, 10),
    observerErrors,
    stuck: snaps.flatMap((sn) => sn.stuck).slice(0, 10),
    views,
    states,
    events,
  };
  s.log(
    `      ${r.presentUsers} users present; observers: ${r.ghosts} ghosts, ${r.missing} missing` +
      `${observerErrors.length ? `, ${observerErrors.length} observer errors (${observerErrors[0]})` : ''}; ` +
      `member lists of ${views.checked} joined sockets: ${views.stale} stale ${JSON.stringify(views.staleByPhase)} (${views.ghostEntries} ghost, ${views.missingEntries} missing entries)` +
      `${r.uncertainUsers ? `; ${r.uncertainUsers} users with a join unanswered` : ''}`,
  );
  if (ghosts.length || missing.length)
    s.log(`      e.g. ghosts [${ghosts.slice(0, 3).join(' ')}] missing [${missing.slice(0, 3).join(' ')}]`);
  return r;
}

/**
 * Check every joined socket's own member list (from the workers' snapshots) against the truth.
 * @param {{views: {room: number, joinedIn: string, ids: string[]}[]}[]} snaps the workers' presenceSnapshot answers
 * @param {(room: number, listed: Set<string>) => {ghosts: string[], missing: string[]}} diff
 */
function checkViews(snaps, diff) {
  // staleByPhase: stale lists by the phase their socket last joined in (initial join or churn)
  const views = {
    checked: 0,
    stale: 0,
    ghostEntries: 0,
    missingEntries: 0,
    staleByPhase: /** @type {Record<string, number>} */ ({}),
  };
  for (const sn of snaps) {
    for (const v of sn.views) {
      const d = diff(v.room, new Set(v.ids));
      views.checked++;
      if (d.ghosts.length || d.missing.length) {
        views.stale++;
        views.staleByPhase[v.joinedIn] = (views.staleByPhase[v.joinedIn] ?? 0) + 1;
      }
      views.ghostEntries += d.ghosts.length;
      views.missingEntries += d.missing.length;
    }
  }
  return views;
}

/**
 * One fresh observer socket per room (spread over the load-generator threads) reads the room's member list.
 * @param {import('./session.mjs').TargetSession} s
 * @param {{url: string, eio: 3|4, rooms: number, observerBase: number}} o observer of room r is user observerBase + r
 * @returns {Promise<{room: number, ids: string[]|null, error: string|null}[]>}
 */
async function observeRooms(s, { url, eio, rooms, observerBase }) {
  const lg = s.loadgen;
  const observers = [...Array(rooms).keys()].map((room) => ({
    room,
    channel: PRESENCE_CH + room,
    user: observerBase + room,
  }));
  return (
    await lg.callEach(
      deal(observers, lg.workers.length).map((share) => ({
        cmd: 'presenceObserve',
        url,
        eio,
        observers: share,
        timeoutMs: 10_000,
      })),
    )
  ).flatMap((r) => r.observed);
}

/**
 * S4 presence churn: users join presence channels (auth answered by a stub in
 * this process), then part of their sockets keep leaving and rejoining at a
 * paced rate; the member lists are checked after the joins and after the churn
 * (see {@link checkMembers}).
 * @param {import('./session.mjs').TargetSession} s
 * @param {typeof import('./config.mjs').FULL.s4} p
 * @param {3|4} eio
 */
export async function s4PresenceChurn(s, p, eio) {
  const stub = await startAuthStub();
  try {
    await s.startServer(eio, { authHost: stub.url, authEndpoint: stub.endpoint });
    try {
      return await presenceChurn(s, p, eio, stub);
    } finally {
      await s.loadgen.closeAll();
      await s.stopServer();
    }
  } finally {
    await stub.close();
  }
}

/** @param {number|null|undefined} x @param {number} [d] decimals */
const fmtNum = (x, d = 1) => (x == null ? '-' : x.toFixed(d));

/**
 * The measured part of S4 on a started server.
 * @param {import('./session.mjs').TargetSession} s
 * @param {typeof import('./config.mjs').FULL.s4} p
 * @param {3|4} eio
 * @param {import('./auth-stub.mjs').AuthStub} stub
 */
async function presenceChurn(s, p, eio, stub) {
  const lg = s.loadgen;
  const { server } = s.live();
  const url = wsUrl(s.port, eio);
  const plan = presencePlan(p);
  const dropped0 = lg.dropped();
  /**
   * @type {{
   *   eio: 3|4, params: typeof p, sockets: number, users: number, churners: number, connected: number,
   *   phaseA: JoinPhase|null, afterJoin: MemberCheck|null, churn: ChurnPhase|null, final: MemberCheck|null,
   *   errors: number, dropped: number, serverExited: {error: string, logTail: string}|null,
   * }}
   */
  const out = {
    eio,
    params: p,
    sockets: plan.length,
    users: p.users,
    churners: plan.filter((x) => x.churn).length,
    connected: 0,
    phaseA: null,
    afterJoin: null,
    churn: null,
    final: null,
    errors: 0,
    dropped: 0,
    serverExited: null,
  };
  const finish = () => {
    out.dropped = lg.dropped() - dropped0;
    /** @param {{errors: number, timeouts?: number, unsettled?: number, tail?: {errors: number}}|null} x */
    const ph = (x) => (x ? x.errors + (x.timeouts ?? 0) + (x.unsettled ?? 0) + (x.tail?.errors ?? 0) : 0);
    /** @param {MemberCheck|null} x */
    const ob = (x) => x?.observerErrors.length ?? 0;
    out.errors = ph(out.phaseA) + ph(out.churn) + ob(out.afterJoin) + ob(out.final);
    if (!server.alive()) {
      const tail = server.logTail();
      const exited = { error: crashLine(tail), logTail: tail.split('\n').slice(-15).join('\n') };
      out.serverExited = exited;
      out.errors++;
      s.log(`    SERVER EXITED: ${exited.error}`);
    }
    return out;
  };

  // connect every socket first (connect cost is S1's subject), then measure the joins alone
  const setup = await lg.callEach(
    deal(plan, lg.workers.length).map((sockets) => ({
      cmd: 'presenceSetup',
      url,
      eio,
      sockets,
      concurrency: s.opts.connectConcurrency,
      timeoutMs: s.opts.connectTimeoutMs,
    })),
  );
  out.connected = setup.reduce((a, r) => a + r.connected, 0);
  if (out.connected < plan.length) throw new Error(`only ${out.connected}/${plan.length} presence sockets connected`);

  out.phaseA = await joinPhase(s, p, stub, plan.length);
  await sleep(p.settleMs);
  if (!server.alive()) return finish();
  s.log('    after the joins:');
  out.afterJoin = await checkMembers(s, { url, eio, rooms: p.rooms, observerBase: OBSERVER_USER });
  if (!server.alive()) return finish();

  out.churn = await churnPhase(s, p, stub);
  await sleep(p.settleMs);
  if (!server.alive()) return finish();
  s.log('    after the churn:');
  out.final = await checkMembers(s, { url, eio, rooms: p.rooms, observerBase: OBSERVER_USER + p.rooms });
  return finish();
}

/**
 * @typedef {Awaited<ReturnType<typeof checkMembers>>} MemberCheck
 * @typedef {Awaited<ReturnType<typeof joinPhase>>} JoinPhase
 * @typedef {Awaited<ReturnType<typeof churnPhase>>} ChurnPhase
 */

/**
 * S4 phase A: everybody joins, at most joinConcurrency subscribes in flight per load-generator thread.
 * @param {import('./session.mjs').TargetSession} s
 * @param {typeof import('./config.mjs').FULL.s4} p
 * @param {import('./auth-stub.mjs').AuthStub} stub
 * @param {number} sockets how many sockets should join
 */
async function joinPhase(s, p, stub, sockets) {
  const { server, redis } = s.live();
  const quiet = await waitQuiet([server.pid, redis.pid], s.opts.quiet);
  stub.reset();
  const bg = backgroundCpu([server.pid, redis.pid]);
  const cpu = cpuWindow(s);
  const joinRs = await s.loadgen.callAll({
    cmd: 'presenceJoinAll',
    concurrency: p.joinConcurrency,
    timeoutMs: p.joinTimeoutMs,
  });
  const aCpu = cpu();
  const a = mergePhase(joinRs);
  const aSec = Math.max(1e-3, (a.lastAck - a.firstSent) / 1000);
  const phaseA = {
    ...a,
    timeouts: joinRs.reduce((x, r) => x + r.timeouts, 0),
    seconds: aSec,
    joinsPerSec: a.joins / aSec,
    ...aCpu,
    cpuMsPerJoin: a.joins ? (aCpu.serverCpuSec * 1000) / a.joins : null,
    redisCpuMsPerJoin: a.joins ? (aCpu.redisCpuSec * 1000) / a.joins : null,
    authRequests: stub.stats.requests,
    backgroundCpuPct: bg.stop(),
    quietWaitMs: quiet.waitedMs,
  };
  s.log(
    `    join: ${a.joins}/${sockets} in ${Math.round(aSec * 1000)} ms = ${Math.round(phaseA.joinsPerSec)} joins/s, ` +
      `p50 ${fmtNum(a.p50)} p99 ${fmtNum(a.p99)} ms, ${fmtNum(phaseA.cpuMsPerJoin, 2)} server CPU ms/join (+${fmtNum(phaseA.redisCpuMsPerJoin, 2)} Redis), ` +
      `errors ${a.errors + phaseA.timeouts}${Object.keys(a.statuses).length ? ` ${JSON.stringify(a.statuses)}` : ''}`,
  );
  return phaseA;
}

/**
 * S4 phase B: churn at a paced rate, then every churner goes to its end state.
 * @param {import('./session.mjs').TargetSession} s
 * @param {typeof import('./config.mjs').FULL.s4} p
 * @param {import('./auth-stub.mjs').AuthStub} stub
 */
async function churnPhase(s, p, stub) {
  const lg = s.loadgen;
  const { server, redis } = s.live();
  const quiet = await waitQuiet([server.pid, redis.pid], s.opts.quiet);
  stub.reset();
  const bg = backgroundCpu([server.pid, redis.pid]);
  const cpu = cpuWindow(s);
  /** @type {{serverCpuSec: number, redisCpuSec: number}|null} */
  let bCpu = null;
  /** @type {number|null} */
  let bBg = null;
  const churnEnd = setTimeout(() => {
    bCpu = cpu();
    bBg = bg.stop();
  }, p.churnMs);
  const churnRs = await lg.callAll({
    cmd: 'presenceChurn',
    rate: p.churnRate / lg.workers.length,
    durationMs: p.churnMs,
    gapMs: p.gapMs,
    timeoutMs: p.joinTimeoutMs,
  });
  clearTimeout(churnEnd);
  const cpuSec = bCpu ?? cpu();
  const bgPct = bBg ?? bg.stop();
  const b = mergePhase(churnRs.map((r) => r.churn));
  const tail = mergePhase(churnRs.map((r) => r.tail));
  const start = Math.min(...churnRs.map((r) => r.churn.start));
  const end = Math.max(...churnRs.map((r) => r.churn.end));
  const bSec = Math.max(1e-3, (Math.max(end, b.lastAck) - start) / 1000);
  const churn = {
    ...b,
    offeredRate: p.churnRate,
    seconds: bSec,
    joinsPerSec: b.joins / bSec,
    leavesPerSec: b.leaves / bSec,
    ...cpuSec,
    // A server that exited mid-churn leaves no CPU figure (its /proc entry is gone).
    cpuMsPerCycle: b.joins && cpuSec.serverCpuSec >= 0 ? (cpuSec.serverCpuSec * 1000) / b.joins : null,
    redisCpuMsPerCycle: b.joins ? (cpuSec.redisCpuSec * 1000) / b.joins : null,
    authRequests: stub.stats.requests,
    backgroundCpuPct: bgPct,
    quietWaitMs: quiet.waitedMs,
    tail: { sent: tail.sent, joins: tail.joins, leaves: tail.leaves, errors: tail.errors, statuses: tail.statuses },
    unsettled: churnRs.reduce((x, r) => x + r.unsettled, 0),
  };
  const churnErrors = { ...b.statuses };
  for (const [k, v] of Object.entries(tail.statuses)) churnErrors[k] = (churnErrors[k] ?? 0) + v;
  s.log(
    `    churn: ${p.churnRate} joins/s offered: ${fmtNum(churn.joinsPerSec)} joins/s, ${fmtNum(churn.leavesPerSec)} leaves/s, ` +
      `p50 ${fmtNum(b.p50)} p99 ${fmtNum(b.p99)} ms, ${fmtNum(churn.cpuMsPerCycle, 2)} server CPU ms per leave+rejoin (+${fmtNum(churn.redisCpuMsPerCycle, 2)} Redis), ` +
      `skipped ${b.skipped}, errors ${b.errors + tail.errors + churn.unsettled}` +
      `${Object.keys(churnErrors).length ? ` ${JSON.stringify(churnErrors)}` : ''}`,
  );
  return churn;
}
