// @ts-check
// Load-generator worker thread: owns a share of the client connections,
// counts deliveries per step and records their latency in a histogram.
// Hot path per frame: one Buffer.indexOf, a digit scan, one histogram bump.

import { parentPort, workerData } from 'node:worker_threads';
import { EioConnection, readStamp, stamp, subscribeFrame } from './eio-client.mjs';
import { createHistogram, bucketOf } from './histogram.mjs';
import { SLOT } from './loadgen-slots.mjs';
import { PresencePool, observe } from './presence-client.mjs';
import { StormPool } from './storm-client.mjs';

if (!parentPort) throw new Error('loadgen-worker.mjs only runs as a worker thread');
const parent = parentPort;
const counters = new Int32Array(workerData.counters);
const timeOrigin = performance.timeOrigin;

/** @type {EioConnection[]} */
let conns = [];
let closing = false;
let curStep = -1;
let hist = createHistogram();
let count = 0;
let sumMs = 0;
let maxMs = 0;
/** @type {Map<string, number>} */
const closeReasons = new Map();
/** @type {NodeJS.Timeout|null} */
let pingTimer = null;
const presence = new PresencePool(counters, (conn) => conns.push(conn));
const storm = new StormPool(counters, (conn) => conns.push(conn));

/**
 * What a plain (non-presence) client carries as its EioConnection tag: the channels it subscribed to,
 * which of them have delivered a probe (bit mask), and the callback that settles its connect attempt.
 * @typedef {{chans: number[], mask: number, full: number, settle: ((ok: boolean) => void)|null}} ClientTag
 */

/** @type {import('./eio-client.mjs').EioHooks} */
const hooks = {
  onConnected(conn) {
    Atomics.add(counters, SLOT.OPEN, 1);
    conn.tag.settle?.(true);
  },
  onEvent(conn, buf) {
    if (!readStamp(buf)) return;
    const step = stamp.step;
    if (step === curStep) {
      const ms = ((timeOrigin + performance.now()) * 1000 - stamp.ts) / 1000;
      hist[bucketOf(ms)]++;
      count++;
      sumMs += ms;
      if (ms > maxMs) maxMs = ms;
      Atomics.add(counters, SLOT.RECEIVED, 1);
    } else if (step === 0) {
      const t = conn.tag;
      const k = t.chans.indexOf(stamp.seq);
      if (k >= 0 && (t.mask & (1 << k)) === 0) {
        t.mask |= 1 << k;
        if (t.mask === t.full) Atomics.add(counters, SLOT.PROBE_READY, 1);
      }
    } else {
      Atomics.add(counters, SLOT.STRAY, 1);
    }
  },
  onClosed(conn, wasConnected, reason) {
    if (wasConnected) Atomics.sub(counters, SLOT.OPEN, 1);
    if (!closing) {
      closeReasons.set(reason, (closeReasons.get(reason) ?? 0) + 1);
      if (wasConnected) Atomics.add(counters, SLOT.DROPPED, 1);
    }
    conn.tag.settle?.(false);
  },
};

/**
 * Open connections with bounded concurrency.
 * @param {{url: string, eio: import('./eio-client.mjs').ClientKind, clients: number[][], channelPrefix: string, concurrency: number, timeoutMs: number}} m
 * @returns {Promise<{connected: number, failed: number, ms: number}>}
 */
function connectAll(m) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let next = 0;
    let inflight = 0;
    let connected = 0;
    let failed = 0;
    let lastOk = t0;
    let done = false;
    /** @type {Set<EioConnection>} */
    const pending = new Set();
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      for (const c of [...pending]) c.close('connect timeout'); // settles each as failed
      resolve({ connected, failed, ms: lastOk - t0 });
    };
    const deadline = setTimeout(finish, m.timeoutMs);
    const launch = () => {
      while (!done && inflight < m.concurrency && next < m.clients.length) {
        const chans = m.clients[next++];
        /** @type {ClientTag} */
        const tag = { chans, mask: 0, full: (1 << chans.length) - 1, settle: null };
        const conn = new EioConnection(
          m.url,
          m.eio,
          chans.map((c) => subscribeFrame(m.channelPrefix + c, m.eio)),
          hooks,
          tag,
        );
        inflight++;
        pending.add(conn);
        tag.settle = (ok) => {
          tag.settle = null;
          pending.delete(conn);
          inflight--;
          if (ok) {
            connected++;
            lastOk = performance.now();
            conns.push(conn);
          } else failed++;
          if (next >= m.clients.length && inflight === 0) finish();
          else launch();
        };
      }
    };
    if (m.clients.length === 0) finish();
    else launch();
  });
}

/** EIO3 clients must ping: spread pings so each client pings once per interval. */
function startPinger() {
  if (pingTimer) return;
  let tick = 0;
  pingTimer = setInterval(() => {
    const eio3 = conns.length && conns[0].eio === 3;
    if (!eio3) return;
    const slices = Math.max(1, Math.floor(conns[0].pingInterval / 1000) - 3);
    const k = tick++ % slices;
    for (let i = k; i < conns.length; i += slices) if (!conns[i].closed) conns[i].ping();
  }, 1000);
}

parent.on('message', async (m) => {
  switch (m.cmd) {
    case 'connect': {
      closing = false;
      const r = await connectAll(m);
      startPinger();
      parent.postMessage({ id: m.id, ...r });
      break;
    }
    case 'begin': {
      curStep = m.step;
      hist = createHistogram();
      count = 0;
      sumMs = 0;
      maxMs = 0;
      Atomics.store(counters, SLOT.RECEIVED, 0);
      Atomics.store(counters, SLOT.STRAY, 0);
      parent.postMessage({ id: m.id });
      break;
    }
    case 'collect': {
      const h = hist;
      const r = { id: m.id, step: curStep, count, sumMs, maxMs, hist: h, stray: Atomics.load(counters, SLOT.STRAY) };
      curStep = -1;
      hist = createHistogram();
      parent.postMessage(r, [h.buffer]);
      break;
    }
    case 'presenceSetup': {
      const r = await presence.setup(m);
      startPinger();
      parent.postMessage({ id: m.id, ...r });
      break;
    }
    case 'presenceJoinAll': {
      parent.postMessage({ id: m.id, ...(await presence.joinAll(m)) });
      break;
    }
    case 'presenceChurn': {
      parent.postMessage({ id: m.id, ...(await presence.churn(m)) });
      break;
    }
    case 'presenceSnapshot': {
      parent.postMessage({ id: m.id, ...presence.snapshot() });
      break;
    }
    case 'presenceObserve': {
      parent.postMessage({ id: m.id, observed: await observe(m) });
      break;
    }
    case 'stormSetup': {
      const r = await storm.setup(m);
      startPinger();
      parent.postMessage({ id: m.id, ...r });
      break;
    }
    case 'stormBegin': {
      storm.begin();
      parent.postMessage({ id: m.id });
      break;
    }
    case 'stormCollect': {
      parent.postMessage({ id: m.id, ...storm.collect() });
      break;
    }
    case 'closeAll': {
      closing = true;
      presence.reset();
      storm.reset();
      const n = conns.length;
      for (const c of conns) c.close();
      conns = [];
      Atomics.store(counters, SLOT.PROBE_READY, 0);
      const reasons = Object.fromEntries(closeReasons);
      closeReasons.clear();
      parent.postMessage({ id: m.id, closed: n, reasons });
      break;
    }
    case 'reasons': {
      parent.postMessage({ id: m.id, reasons: Object.fromEntries(closeReasons) });
      break;
    }
    default:
      parent.postMessage({ id: m.id, error: `unknown cmd ${m.cmd}` });
  }
});
