// @ts-check
// Main-thread side of the load generator: spreads clients over worker
// threads, polls their shared counters and merges their per-step results.

import { Worker } from 'node:worker_threads';
import { SLOT, SLOT_COUNT } from './loadgen-slots.mjs';
import { createHistogram, mergeInto, percentiles } from './histogram.mjs';
import { sleep } from './proc.mjs';

const WORKER_URL = new URL('./loadgen-worker.mjs', import.meta.url);

/** A pool of load-generator worker threads. */
export class Loadgen {
  /**
   * @param {number} workers number of worker threads (1-2 on a 2-core box)
   */
  constructor(workers) {
    /** @type {Worker[]} */
    this.workers = [];
    /** @type {Int32Array[]} */
    this.counters = [];
    this.nextId = 1;
    /** @type {Map<number, (answer: {error?: string}) => void>} id of a call -> its answer's callback */
    this.waiters = new Map();
    for (let i = 0; i < workers; i++) {
      const sab = new SharedArrayBuffer(SLOT_COUNT * 4);
      const w = new Worker(WORKER_URL, { workerData: { counters: sab, index: i } });
      w.on('message', (msg) => {
        const cb = this.waiters.get(msg.id);
        if (cb) {
          this.waiters.delete(msg.id);
          cb(msg);
        }
      });
      w.on('error', (err) => {
        for (const cb of this.waiters.values()) cb({ error: `worker crashed: ${err.stack || err}` });
        this.waiters.clear();
      });
      this.workers.push(w);
      this.counters.push(new Int32Array(sab));
    }
  }

  /**
   * Send a command to one worker and wait for its answer.
   * @param {number} i worker index
   * @param {object} msg
   * @returns {Promise<any>}
   */
  call(i, msg) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiters.set(id, (r) => (r.error ? reject(new Error(r.error)) : resolve(r)));
      this.workers[i].postMessage({ ...msg, id });
    });
  }

  /** @param {object} msg */
  callAll(msg) {
    return Promise.all(this.workers.map((_, i) => this.call(i, msg)));
  }

  /**
   * Send worker i the message msgs[i] (a different share to each) and wait for all answers.
   * @param {object[]} msgs one per worker
   * @returns {Promise<any[]>}
   */
  callEach(msgs) {
    return Promise.all(msgs.map((msg, i) => this.call(i, msg)));
  }

  /**
   * Sum of one shared counter over all workers.
   * @param {number} slot one of SLOT
   * @returns {number}
   */
  sum(slot) {
    let s = 0;
    for (const c of this.counters) s += Atomics.load(c, slot);
    return s;
  }

  /** Deliveries counted for the current step so far. */
  received() {
    return this.sum(SLOT.RECEIVED);
  }

  /** Deliveries stamped with a step other than the current one (late arrivals) since the last begin(). */
  stray() {
    return this.sum(SLOT.STRAY);
  }

  /** Connected clients right now. */
  open() {
    return this.sum(SLOT.OPEN);
  }

  /** Clients that disconnected without being asked to (since start). */
  dropped() {
    return this.sum(SLOT.DROPPED);
  }

  /**
   * Connect clients (round-robin over workers), each subscribing to its channels.
   * @param {object} o
   * @param {string} o.url
   * @param {import('./eio-client.mjs').ClientKind} o.eio
   * @param {number[][]} o.clients channel indices per client
   * @param {string} o.channelPrefix channel name = prefix + index
   * @param {number} o.concurrency in-flight handshakes per worker
   * @param {number} o.timeoutMs
   * @returns {Promise<{connected: number, failed: number, ms: number}>}
   */
  async connect({ url, eio, clients, channelPrefix, concurrency, timeoutMs }) {
    const shares = this.workers.map(() => /** @type {number[][]} */ ([]));
    clients.forEach((c, i) => shares[i % shares.length].push(c));
    const rs = await Promise.all(
      shares.map((share, i) =>
        this.call(i, { cmd: 'connect', url, eio, clients: share, channelPrefix, concurrency, timeoutMs }),
      ),
    );
    return {
      connected: rs.reduce((a, r) => a + r.connected, 0),
      failed: rs.reduce((a, r) => a + r.failed, 0),
      ms: Math.max(...rs.map((r) => r.ms)),
    };
  }

  /**
   * Re-publish probes until every client saw one on each of its channels.
   * @param {() => Promise<void>} publish publishes one probe per channel
   * @param {number} expected clients that must become ready
   * @param {number} timeoutMs
   * @returns {Promise<{ready: number, ms: number}>}
   */
  async waitProbes(publish, expected, timeoutMs) {
    const t0 = performance.now();
    while (performance.now() - t0 < timeoutMs) {
      await publish();
      const until = performance.now() + 500;
      while (performance.now() < until) {
        if (this.sum(SLOT.PROBE_READY) >= expected) return { ready: expected, ms: performance.now() - t0 };
        await sleep(20);
      }
    }
    return { ready: this.sum(SLOT.PROBE_READY), ms: performance.now() - t0 };
  }

  /**
   * Start counting deliveries stamped with `step`.
   * @param {number} step
   */
  async begin(step) {
    await this.callAll({ cmd: 'begin', step });
  }

  /**
   * Stop counting and merge the workers' results for the current step.
   * @returns {Promise<{count: number, p50: number|null, p99: number|null, p999: number|null, max: number, mean: number|null, stray: number}>}
   */
  async collect() {
    const rs = await this.callAll({ cmd: 'collect' });
    const hist = createHistogram();
    let count = 0;
    let sumMs = 0;
    let maxMs = 0;
    let stray = 0;
    for (const r of rs) {
      mergeInto(hist, r.hist);
      count += r.count;
      sumMs += r.sumMs;
      maxMs = Math.max(maxMs, r.maxMs);
      stray += r.stray;
    }
    const [p50, p99, p999] = percentiles(hist, [50, 99, 99.9]);
    return { count, p50, p99, p999, max: maxMs, mean: count ? sumMs / count : null, stray };
  }

  /**
   * Close every client connection.
   * @returns {Promise<{closed: number, reasons: Record<string, number>}>}
   */
  async closeAll() {
    const rs = await this.callAll({ cmd: 'closeAll' });
    /** @type {Record<string, number>} */
    const reasons = {};
    for (const r of rs) for (const [k, v] of Object.entries(r.reasons)) reasons[k] = (reasons[k] ?? 0) + v;
    return { closed: rs.reduce((a, r) => a + r.closed, 0), reasons };
  }

  /** Stop the worker threads. */
  async terminate() {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
