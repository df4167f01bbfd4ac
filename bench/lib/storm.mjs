// @ts-check
// S5 reconnect storm: what a deploy does to one node. N clients, each on a public, a private and
// a presence channel (auth answered by the stub with Laravel's delay), are connected and
// subscribed; then the server is stopped with SIGTERM and started again on the same port, and
// every client reconnects with socket.io-client's backoff and subscribes again; an Engine.IO 4 client
// asks for its session back first (`recovery`), as socket.io-client >= 4.6 does whenever the server
// handed it a pid, and a restored one is in its channels before it subscribes. Measured: the
// time until every client is back on all its channels, the new server's CPU per reconnect, the
// auth requests/s the storm drove, subscribe latency, and what failed. The cold join before
// the restart is reported the same way.
//
// Public and private subscribes are never acknowledged, so this thread publishes probes (a
// broadcast whose seq is the channel's kind) to each channel that has a client waiting: a public
// channel as soon as one of its clients sent its subscribe, a private channel once the stub has
// answered its auth (the server joins right after reading the answer) or after a second without.
// A channel is probed at once, `probeMs` later, then at gaps doubling up to 500 ms, so a slow
// server is not flooded while it catches up (at 10,000 clients, a probe every 50 ms per waiting
// channel made a million probes and cost the server more than the reconnects). A client's
// subscribe counts as done at the first probe it receives: public and private latencies are late
// by up to `probeMs` when the server joins promptly, by up to 500 ms when it is slow; presence
// latency is exact (`presence:subscribed`).

import { readFileSync } from 'node:fs';
import { sampleProcess, sleep, backgroundCpu, waitQuiet } from './proc.mjs';
import { wsUrl } from './eio-client.mjs';
import { startAuthStub } from './auth-stub.mjs';
import { laravelPayload, nowMicros } from './redis.mjs';
import { createHistogram, mergeInto, percentiles } from './histogram.mjs';
import { KIND, KIND_NAMES, KINDS, STATE, stormChannels } from './storm-client.mjs';

/**
 * @typedef {typeof import('./config.mjs').FULL.s5} StormParams
 * @typedef {import('./storm-client.mjs').StormStats} StormStats
 * @typedef {{state: Uint8Array, sentAt: Float64Array, gen: Int32Array, restored: Uint8Array, stopping: Int32Array}} Shared
 *   the arrays the workers write (restored: per client, 1 while its connection is a restored session, in
 *   its channels from the start; stopping: this thread's, 1 while the old server is being stopped)
 */

const epochMs = () => performance.timeOrigin + performance.now();

/**
 * How long the old server gets to stop gracefully before SIGKILL: longer than echo-relay's own
 * limit (shutdown.timeoutMs, 10 s), so its whole graceful stop is measured.
 */
const STOP_GRACE_MS = 15_000;

/**
 * The kernel's count of connections dropped because a listen queue was full (machine-wide:
 * /proc/net/netstat TcpExt ListenOverflows). A reconnect storm can fill the server's accept queue
 * (Node listens with a backlog of 511); each dropped SYN costs its client a retransmit 1, 3, 7 ... s later.
 * @returns {number|null} null where the counter cannot be read
 */
function listenOverflows() {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const k = lines.findIndex((l) => l.startsWith('TcpExt:'));
    const names = lines[k].split(/\s+/);
    const values = lines[k + 1].split(/\s+/);
    const i = names.indexOf('ListenOverflows');
    return i > 0 ? Number(values[i]) : null;
  } catch {
    return null;
  }
}

/**
 * @param {number|null} before {@link listenOverflows} at the start of a phase
 * @returns {number|null}
 */
const overflowsSince = (before) => {
  const now = listenOverflows();
  return before == null || now == null ? null : now - before;
};

/**
 * S5 on one target: start it with the auth stub, connect and subscribe every client (the cold
 * join), restart it, and measure the storm.
 * @param {import('./session.mjs').TargetSession} s
 * @param {StormParams & {clients: number}} p
 * @param {3|4} eio
 */
export async function s5ReconnectStorm(s, p, eio) {
  const stub = await startAuthStub({ delayMs: [p.authDelayMinMs, p.authDelayMaxMs], keepAlive: p.authKeepAlive });
  try {
    const t0 = performance.now();
    await s.startServer(eio, { authHost: stub.url, authEndpoint: stub.endpoint });
    try {
      return await storm(s, p, eio, stub, performance.now() - t0);
    } finally {
      await s.loadgen.closeAll();
      await s.stopServer();
    }
  } finally {
    await stub.close();
  }
}

/**
 * The measured part of S5 on a started server.
 * @param {import('./session.mjs').TargetSession} s
 * @param {StormParams & {clients: number}} p
 * @param {3|4} eio
 * @param {import('./auth-stub.mjs').AuthStub} stub
 * @param {number} coldStartMs spawn until a published message reached a client
 */
async function storm(s, p, eio, stub, coldStartMs) {
  // A target without presence channels (S4 not applicable: the bare floor) has no channel auth: public part only.
  // publicOnly runs every target that way, to compare it with the floor.
  const kinds = p.publicOnly || s.target.notApplicable?.s4 ? [KIND.PUBLIC] : [KIND.PUBLIC, KIND.PRIVATE, KIND.PRESENCE];
  const shared = {
    state: new Uint8Array(new SharedArrayBuffer(p.clients * KINDS)),
    sentAt: new Float64Array(new SharedArrayBuffer(p.clients * KINDS * 8)),
    gen: new Int32Array(new SharedArrayBuffer(p.clients * 4)),
    restored: new Uint8Array(new SharedArrayBuffer(p.clients)),
    stopping: new Int32Array(new SharedArrayBuffer(4)),
  };
  const boot = sampleProcess(s.live().server.pid);
  const prober = startProber(s, p, shared, kinds, stub);
  try {
    const out = {
      eio,
      params: p,
      clients: p.clients,
      kinds: kinds.map((k) => KIND_NAMES[k]),
      coldStartMs,
      bootCpuSec: boot.cpuSec,
      bootRssMiB: boot.rssBytes / 2 ** 20,
      join: /** @type {Awaited<ReturnType<typeof coldJoin>>|null} */ (null),
      restart: /** @type {Awaited<ReturnType<typeof restartStorm>>|null} */ (null),
    };
    out.join = await coldJoin(s, p, eio, shared, kinds, stub, prober);
    await sleep(p.settleMs);
    out.restart = await restartStorm(s, p, shared, kinds, stub, prober, boot.cpuSec);
    return out;
  } finally {
    prober.stop();
  }
}

/** Longest gap between two probes of a channel that keeps a client waiting. */
const MAX_PROBE_GAP_MS = 500;

/**
 * When to probe each of `n` channels: at once when a wait starts, then `probeMs` later, doubling
 * up to {@link MAX_PROBE_GAP_MS}, so a server that is slow to join (or to deliver) is not
 * flooded with probes while it catches up. A wait is identified by a key (the subscribe's sentAt);
 * a new key starts the schedule again, key 0 clears it.
 * @param {number} n
 * @param {number} probeMs the first gap
 */
function schedules(n, probeMs) {
  const key = new Float64Array(n);
  const gap = new Float64Array(n);
  const next = new Float64Array(n);
  return {
    key,
    /**
     * @param {number} j channel
     * @param {number} k the wait's key (0: nothing waits)
     * @param {number} now epoch ms
     * @returns {boolean} whether to probe channel j now
     */
    due(j, k, now) {
      if (k !== key[j]) {
        key[j] = k;
        gap[j] = 0;
        next[j] = 0;
      }
      if (!k || now < next[j]) return false;
      gap[j] = gap[j] ? Math.min(gap[j] * 2, MAX_PROBE_GAP_MS) : probeMs;
      next[j] = now + gap[j];
      return true;
    },
  };
}

/**
 * Publishes probes to the channels that have a client waiting (see the file comment).
 * @param {import('./session.mjs').TargetSession} s
 * @param {StormParams & {clients: number}} p
 * @param {Shared} shared
 * @param {number[]} kinds
 * @param {import('./auth-stub.mjs').AuthStub} stub
 * @returns {{published: () => number, authorisedAt: Float64Array, stop: () => void}} authorisedAt: epoch ms
 *   the stub last answered 200 to user i + 1's private channel
 */
function startProber(s, p, shared, kinds, stub) {
  const { state, sentAt, restored } = shared;
  const authorisedAt = new Float64Array(p.clients);
  stub.onAuthorised((channel, user) => {
    if (channel.startsWith('private-') && user >= 1 && user <= p.clients) authorisedAt[user - 1] = epochMs();
  });
  const privateToo = kinds.includes(KIND.PRIVATE);
  const { publisher } = s.live(); // the session's, which outlives the restart
  const publics = Math.ceil(p.clients / p.roomSize);
  const pub = schedules(publics, p.probeMs);
  const priv = schedules(p.clients, p.probeMs);
  /** newest subscribe (sentAt) waiting on each public channel, this round and the one before */
  let newest = new Float64Array(publics);
  let newestBefore = new Float64Array(publics);
  let published = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return; // the previous round is still being written
    const now = epochMs();
    [newest, newestBefore] = [newestBefore, newest];
    newest.fill(0);
    /** @type {string[]} */
    const privates = [];
    for (let i = 0; i < p.clients; i++) {
      const b = i * KINDS;
      if (state[b + KIND.PUBLIC] === STATE.PENDING) {
        const j = Math.floor(i / p.roomSize);
        newest[j] = Math.max(newest[j], sentAt[b + KIND.PUBLIC]);
      }
      if (!privateToo) continue;
      // A private channel waits for the stub's answer to its auth; after a second without one it is
      // probed anyway, so a join the answer's timing cannot explain (seen twice in ~100,000 at 10,000
      // clients: the answer logged 1 ms before its subscribe was sent) still ends the wait. A restored
      // session is in its channels before its subscribes (which ask for no auth): probed at once.
      const sent = sentAt[b + KIND.PRIVATE];
      const ripe =
        state[b + KIND.PRIVATE] === STATE.PENDING &&
        (restored[i] === 1 || authorisedAt[i] >= sent || now - sent > 1000);
      if (priv.due(i, ripe ? sent : 0, now)) privates.push(stormChannels(i, p)[KIND.PRIVATE]);
    }
    /** @type {string[]} */
    const channels = [];
    for (let j = 0; j < publics; j++) {
      // a subscribe newer than last round's newest starts the channel's schedule again
      const key = newest[j] > newestBefore[j] ? newest[j] : newest[j] && pub.key[j];
      if (pub.due(j, key, now)) channels.push(`storm-${j}`);
    }
    if (channels.length === 0 && privates.length === 0) return;
    const pipe = publisher.pipeline();
    const ts = nowMicros();
    for (const ch of channels) pipe.publish(ch, laravelPayload(KIND.PUBLIC, 0, ts, ''));
    for (const ch of privates) pipe.publish(ch, laravelPayload(KIND.PRIVATE, 0, ts, ''));
    published += channels.length + privates.length;
    busy = true;
    pipe.exec().finally(() => {
      busy = false;
    });
  }, p.probeMs);
  return {
    published: () => published,
    authorisedAt,
    stop: () => {
      clearInterval(timer);
      stub.onAuthorised(null);
    },
  };
}

/**
 * Clients whose channels have all settled (subscribed or refused) on a connection made after
 * `gen0` was taken.
 * @param {Shared} shared
 * @param {number[]} kinds
 * @param {Int32Array} gen0 connections per client at the start of the phase
 * @returns {number}
 */
function countBack({ state, gen }, kinds, gen0) {
  let n = 0;
  outer: for (let i = 0; i < gen.length; i++) {
    if (gen[i] <= gen0[i]) continue;
    for (const k of kinds) {
      const st = state[i * KINDS + k];
      if (st !== STATE.SUBSCRIBED && st !== STATE.REFUSED) continue outer;
    }
    n++;
  }
  return n;
}

/**
 * What keeps the first few clients that are not back from counting: no new connection yet, or a
 * channel still pending (for a private one: whether and when the stub answered its auth).
 * @param {StormParams & {clients: number}} p
 * @param {Shared} shared
 * @param {number[]} kinds
 * @param {Int32Array} gen0
 * @param {Float64Array} authorisedAt from the prober
 * @returns {string[]}
 */
function stuckSample(p, { state, gen, sentAt }, kinds, gen0, authorisedAt) {
  /** @type {string[]} */
  const out = [];
  for (let i = 0; i < p.clients && out.length < 5; i++) {
    if (gen[i] <= gen0[i]) {
      out.push(`user ${i + 1} not reconnected`);
      continue;
    }
    const pending = kinds.filter((k) => state[i * KINDS + k] === STATE.PENDING || state[i * KINDS + k] === STATE.NONE);
    if (!pending.length) continue;
    const names = pending.map((k) => {
      const ch = stormChannels(i, p)[k];
      if (k !== KIND.PRIVATE) return ch;
      const ms = authorisedAt[i] - sentAt[i * KINDS + k];
      return `${ch} (${authorisedAt[i] ? `auth answered ${ms.toFixed(0)} ms after the subscribe` : 'auth never answered'})`;
    });
    out.push(`user ${i + 1} waiting on ${names.join(', ')}`);
  }
  return out;
}

/**
 * Wait until every client is back (or `timeoutMs` passed since `t0`).
 * @param {StormParams & {clients: number}} p
 * @param {Shared} shared
 * @param {number[]} kinds
 * @param {Int32Array} gen0
 * @param {number} t0 performance.now() the phase started
 * @returns {Promise<{back: number, at: number}>} at: performance.now() when the last one was seen back
 */
async function waitBack(p, shared, kinds, gen0, t0) {
  for (;;) {
    const back = countBack(shared, kinds, gen0);
    const now = performance.now();
    if (back >= p.clients || now - t0 > p.timeoutMs) return { back, at: now };
    await sleep(20);
  }
}

/**
 * The workers' counters of the phase that is ending, merged.
 * @param {import('./loadgen.mjs').Loadgen} lg
 * @param {number[]} kinds
 */
async function collectPhase(lg, kinds) {
  /** @type {StormStats[]} */
  const rs = await lg.callAll({ cmd: 'stormCollect' });
  const all = createHistogram();
  /** @type {Record<string, {confirmed: number, p50: number|null, p99: number|null}>} */
  const latency = {};
  for (const k of kinds) {
    const h = createHistogram();
    for (const r of rs) mergeInto(h, r.hist[k]);
    mergeInto(all, h);
    const [p50, p99] = percentiles(h, [50, 99]);
    latency[KIND_NAMES[k]] = { confirmed: rs.reduce((a, r) => a + r.confirmed[k], 0), p50, p99 };
  }
  const [p50, p99] = percentiles(all, [50, 99]);
  /** @param {(r: StormStats) => Record<string, number>} pick */
  const sumKeys = (pick) => {
    /** @type {Record<string, number>} */
    const out = {};
    for (const r of rs) for (const [k, v] of Object.entries(pick(r))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  /** @param {(r: StormStats) => number} pick */
  const sum = (pick) => rs.reduce((a, r) => a + pick(r), 0);
  return {
    p50,
    p99,
    latency,
    attempts: sum((r) => r.attempts),
    connects: sum((r) => r.connects),
    recovered: sum((r) => r.recovered),
    disconnects: sum((r) => r.disconnects),
    attemptFailures: sumKeys((r) => r.attemptFailures),
    refused: sumKeys((r) => r.refused),
  };
}

/**
 * The auth stub's figures since its last reset; the mean rate is over first to last request.
 * @param {import('./auth-stub.mjs').AuthStub} stub
 */
function authFigures(stub) {
  const st = stub.stats;
  const sec = (st.lastAt - st.firstAt) / 1000;
  return {
    requests: st.requests,
    denied: st.denied + st.bad,
    perSecMean: sec > 0 ? st.requests / sec : null,
    perSecPeak: stub.peakPerSec(),
    peakInFlight: st.peakInFlight,
    connections: st.connections,
  };
}

/**
 * The cold join: every client connects (bounded concurrency, as S1) and subscribes; until all are subscribed.
 * @param {import('./session.mjs').TargetSession} s
 * @param {StormParams & {clients: number}} p
 * @param {3|4} eio
 * @param {Shared} shared
 * @param {number[]} kinds
 * @param {import('./auth-stub.mjs').AuthStub} stub
 * @param {{published: () => number, authorisedAt: Float64Array}} prober
 */
async function coldJoin(s, p, eio, shared, kinds, stub, prober) {
  const lg = s.loadgen;
  const { server, redis } = s.live();
  await waitQuiet([server.pid, redis.pid], s.opts.quiet);
  stub.reset();
  await lg.callAll({ cmd: 'stormBegin' });
  const bg = backgroundCpu([server.pid, redis.pid]);
  const srv0 = sampleProcess(server.pid);
  const red0 = sampleProcess(redis.pid);
  const probes0 = prober.published();
  const gen0 = new Int32Array(shared.gen);
  const overflows0 = listenOverflows();
  const t0 = performance.now();
  /** @type {number[][]} */
  const shares = lg.workers.map(() => []);
  for (let i = 0; i < p.clients; i++) shares[i % shares.length].push(i);
  const url = wsUrl(s.port, eio);
  const plan = {
    clients: p.clients,
    roomSize: p.roomSize,
    reconnectDelayMs: p.reconnectDelayMs,
    reconnectDelayMaxMs: p.reconnectDelayMaxMs,
  };
  await lg.callEach(
    shares.map((clients) => ({
      cmd: 'stormSetup',
      url,
      eio,
      clients,
      kinds,
      plan,
      recovery: p.recovery,
      state: shared.state.buffer,
      sentAt: shared.sentAt.buffer,
      gen: shared.gen.buffer,
      restored: shared.restored.buffer,
      stopping: shared.stopping.buffer,
      concurrency: s.opts.connectConcurrency,
      timeoutMs: s.opts.connectTimeoutMs,
    })),
  );
  const { back, sec, srv1, red1, ph, common } = await backAgain(lg, p, shared, kinds, gen0, t0, prober, server, redis);
  const r = {
    ...common,
    serverCpuSec: srv1.cpuSec - srv0.cpuSec,
    cpuMsPerClient: back ? ((srv1.cpuSec - srv0.cpuSec) * 1000) / back : null,
    redisCpuSec: red1.cpuSec - red0.cpuSec,
    rssMiB: srv1.rssBytes / 2 ** 20,
    auth: authFigures(stub),
    probes: prober.published() - probes0,
    listenOverflows: overflowsSince(overflows0),
    backgroundCpuPct: bg.stop(),
  };
  s.log(
    `    cold join: ${back}/${p.clients} clients on ${kinds.length} channel(s) in ${Math.round(sec * 1000)} ms, ` +
      `${fmt(r.cpuMsPerClient, 2)} server CPU ms/client, ${fmtAuth(r.auth)}, subscribe p50 ${fmt(ph.p50)} p99 ${fmt(ph.p99)} ms${fmtFailures(r)}`,
  );
  return r;
}

/**
 * Waits until every client is back and subscribed, then samples the server and Redis and collects
 * the load generator's phase figures: what the cold join and the restart report alike.
 * @param {any} lg the session's load generator
 * @param {StormParams & {clients: number}} p
 * @param {Shared} shared
 * @param {number[]} kinds
 * @param {Int32Array} gen0
 * @param {number} t0
 * @param {{authorisedAt: Float64Array}} prober
 * @param {{pid: number}} server
 * @param {{pid: number}} redis
 */
async function backAgain(lg, p, shared, kinds, gen0, t0, prober, server, redis) {
  const { back, at } = await waitBack(p, shared, kinds, gen0, t0);
  const srv1 = sampleProcess(server.pid);
  const red1 = sampleProcess(redis.pid);
  const ph = await collectPhase(lg, kinds);
  const sec = (at - t0) / 1000;
  const common = {
    ...ph,
    back,
    notBack: p.clients - back,
    stuck: back < p.clients ? stuckSample(p, shared, kinds, gen0, prober.authorisedAt) : [],
    seconds: sec,
  };
  return { back, at, sec, srv1, red1, ph, common };
}

/**
 * SIGTERM the server, start it again on the same port, and wait until every client is back.
 * @param {import('./session.mjs').TargetSession} s
 * @param {StormParams & {clients: number}} p
 * @param {Shared} shared
 * @param {number[]} kinds
 * @param {import('./auth-stub.mjs').AuthStub} stub
 * @param {{published: () => number, authorisedAt: Float64Array}} prober
 * @param {number} bootCpuSec CPU the cold-started server used until it was ready, without clients
 */
async function restartStorm(s, p, shared, kinds, stub, prober, bootCpuSec) {
  const lg = s.loadgen;
  const { server: old, redis } = s.live();
  await waitQuiet([old.pid, redis.pid], s.opts.quiet);
  stub.reset();
  await lg.callAll({ cmd: 'stormBegin' });
  const bg = backgroundCpu([old.pid, redis.pid]);
  const red0 = sampleProcess(redis.pid);
  const probes0 = prober.published();
  const gen0 = new Int32Array(shared.gen);
  const overflows0 = listenOverflows();
  const t0 = performance.now();
  // The session's own stop/start would move the server to a new port; clients reconnect to the one they know.
  s.server = null;
  Atomics.store(shared.stopping, 0, 1);
  const exit = await old.stop(STOP_GRACE_MS);
  Atomics.store(shared.stopping, 0, 0);
  const tExit = performance.now();
  const ctx = { port: s.port, redisPort: redis.port, dir: /** @type {string} */ (s.dir) };
  const fresh = await s.target.start({ ...ctx, authHost: stub.url, authEndpoint: stub.endpoint }, s.opts);
  s.server = fresh;
  const tReady = performance.now();
  const ready = sampleProcess(fresh.pid);
  const { back, at, sec, srv1, red1, ph, common } = await backAgain(
    lg,
    p,
    shared,
    kinds,
    gen0,
    t0,
    prober,
    fresh,
    redis,
  );
  const r = {
    ...common,
    stopMs: tExit - t0,
    exit: String(exit),
    startMs: tReady - tExit,
    readyToBackMs: at - tReady,
    serverCpuSec: srv1.cpuSec,
    cpuAtReadySec: ready.cpuSec,
    cpuMsPerReconnect: back ? (Math.max(0, srv1.cpuSec - bootCpuSec) * 1000) / back : null,
    redisCpuSec: red1.cpuSec - red0.cpuSec,
    rssMiB: srv1.rssBytes / 2 ** 20,
    auth: authFigures(stub),
    probes: prober.published() - probes0,
    listenOverflows: overflowsSince(overflows0),
    backgroundCpuPct: bg.stop(),
    serverAlive: fresh.alive(),
  };
  s.log(
    `    restart: SIGTERM -> exit (${r.exit}) ${Math.round(r.stopMs)} ms, start -> ready ${Math.round(r.startMs)} ms, ` +
      `${back}/${p.clients} back ${Math.round(sec * 1000)} ms after SIGTERM (${Math.round(r.readyToBackMs)} ms after ready); ` +
      `${fmt(r.cpuMsPerReconnect, 2)} server CPU ms/reconnect, ${ph.recovered} sessions restored, ${fmtAuth(r.auth)}, subscribe p50 ${fmt(ph.p50)} p99 ${fmt(ph.p99)} ms${fmtFailures(r)}`,
  );
  return r;
}

/** @param {number|null|undefined} x @param {number} [d] decimals */
const fmt = (x, d = 1) => (x == null ? '-' : x.toFixed(d));

/** @param {ReturnType<typeof authFigures>} a */
const fmtAuth = (a) =>
  a.requests
    ? `auth ${a.requests} req, peak ${a.perSecPeak}/s (mean ${Math.round(a.perSecMean ?? 0)}/s), ${a.peakInFlight} in flight, ${a.connections} TCP conns`
    : 'no auth';

/**
 * @param {{notBack: number, stuck: string[], refused: Record<string, number>, attemptFailures: Record<string, number>, listenOverflows: number|null}} r
 */
function fmtFailures(r) {
  const parts = [];
  if (r.listenOverflows) parts.push(`${r.listenOverflows} listen queue overflows (machine-wide)`);
  if (r.notBack) parts.push(`${r.notBack} not back (${r.stuck.join('; ')})`);
  if (Object.keys(r.refused).length) parts.push(`refused ${JSON.stringify(r.refused)}`);
  if (Object.keys(r.attemptFailures).length) parts.push(`failed attempts ${JSON.stringify(r.attemptFailures)}`);
  return parts.length ? `; ${parts.join(', ')}` : '';
}
