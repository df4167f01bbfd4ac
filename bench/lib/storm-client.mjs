// @ts-check
// Worker-thread side of S5 (reconnect storm): clients that behave like Laravel Echo on
// socket.io-client across a server restart. Each client holds one connection and subscribes to a
// public, a private and a presence channel; when the connection closes it reconnects with
// socket.io-client's backoff (1 s doubling to 5 s, ±50 % jitter, reset once connected) and sends
// every `subscribe` again, as Echo does on `reconnect`.
//
// Nothing on the wire says a public or private subscribe succeeded, so the main thread publishes
// probes to channels whose subscribe is pending (see storm.mjs); a presence subscribe is confirmed
// by its `presence:subscribed`. Per channel the state lives in a SharedArrayBuffer the main thread
// reads without messaging the workers: which channels to probe, and when every client is back.

import { EioConnection, channelFrame, readStamp, stamp } from './eio-client.mjs';
import { createHistogram, bucketOf } from './histogram.mjs';
import { SLOT } from './loadgen-slots.mjs';

/** Channel kinds, in the order of each client's three state slots. */
export const KIND = Object.freeze({ PUBLIC: 0, PRIVATE: 1, PRESENCE: 2 });
export const KIND_NAMES = /** @type {const} */ (['public', 'private', 'presence']);
/** Slots per client in the state arrays (one per kind, used or not). */
export const KINDS = 3;

/** Channel state in the shared `state` array. */
export const STATE = Object.freeze({ NONE: 0, PENDING: 1, SUBSCRIBED: 2, REFUSED: 3 });

/** Header carrying the bench user id to the auth stub (see auth-stub.mjs). */
const USER_HEADER_NAME = 'X-Bench-User';
const PRESENCE_SUBSCRIBED = Buffer.from('42["presence:subscribed"');
const SUBSCRIPTION_ERROR = Buffer.from('42["subscription_error"');

const epochMs = () => performance.timeOrigin + performance.now();

/**
 * The channels of client `i` (0-based; its user id is i + 1), by kind: a public channel of
 * `roomSize` consecutive clients, the user's own private channel (as Laravel's
 * `App.Models.User.{id}`), and a presence room of about `roomSize` users spread over the clients.
 * @param {number} i
 * @param {{clients: number, roomSize: number}} p
 * @returns {[string, string, string]}
 */
export function stormChannels(i, p) {
  const rooms = Math.max(1, Math.ceil(p.clients / p.roomSize));
  return [`storm-${Math.floor(i / p.roomSize)}`, `private-storm-user-${i + 1}`, `presence-storm-${i % rooms}`];
}

/**
 * Delay before reconnect attempt `attempt` (0-based), as socket.io-client's Backoff computes it.
 * @param {number} attempt
 * @param {number} minMs reconnectionDelay
 * @param {number} maxMs reconnectionDelayMax
 * @returns {number}
 */
export function backoffMs(attempt, minMs, maxMs) {
  let ms = minMs * 2 ** attempt;
  const rand = Math.random();
  const deviation = Math.floor(rand * 0.5 * ms);
  ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
  return Math.min(ms, maxMs) | 0;
}

/**
 * @typedef {{
 *   hist: Float64Array<ArrayBuffer>[], confirmed: number[],
 *   attempts: number, connects: number, recovered: number, disconnects: number, attemptFailures: Record<string, number>,
 *   refused: Record<string, number>,
 * }} StormStats
 *   hist/confirmed per kind: subscribe -> confirmation latency; attempts: connection attempts; recovered: connects
 *   that restored the session of the connection before (socket.io's connection-state recovery); attemptFailures: failed attempts by reason, prefixed
 *   `old server: ` while the old server was stopping; refused: subscription_error statuses
 */

/** @returns {StormStats} */
function newStats() {
  return {
    hist: [createHistogram(), createHistogram(), createHistogram()],
    confirmed: [0, 0, 0],
    attempts: 0,
    connects: 0,
    recovered: 0,
    disconnects: 0,
    attemptFailures: {},
    refused: {},
  };
}

/**
 * @typedef {{
 *   i: number, frames: string[], channels: [string, string, string], conn: EioConnection|null,
 *   attempt: number, timer: NodeJS.Timeout|null, settle: (() => void)|null,
 *   recovery: import('./eio-client.mjs').RecoveryState|undefined,
 * }} StormClient
 */

/**
 * @typedef {object} StormSetup
 * @property {string} url
 * @property {3|4} eio
 * @property {number[]} clients global indices of this worker's clients
 * @property {number[]} kinds the kinds subscribed (a target without channel auth: public only)
 * @property {boolean} recovery Engine.IO 4 clients recover their session on reconnect, as socket.io-client >= 4.6
 *   does whenever the server's CONNECT reply carried a pid
 * @property {{clients: number, roomSize: number, reconnectDelayMs: number, reconnectDelayMaxMs: number}} plan
 * @property {SharedArrayBuffer} state Uint8Array, KINDS slots per client
 * @property {SharedArrayBuffer} sentAt Float64Array, epoch ms of each pending subscribe
 * @property {SharedArrayBuffer} gen Int32Array, connections established per client
 * @property {SharedArrayBuffer} restored Uint8Array, per client: 1 while its connection is a restored session
 * @property {SharedArrayBuffer} stopping Int32Array of one: 1 while the old server is being stopped
 * @property {number} concurrency in-flight first connections
 * @property {number} timeoutMs
 */

/** The storm clients of one worker thread. */
export class StormPool {
  /**
   * @param {Int32Array} counters the worker's shared counters (OPEN, DROPPED)
   * @param {(conn: EioConnection) => void} track hands each connection to the worker (EIO3 pings, closeAll)
   */
  constructor(counters, track) {
    this.counters = counters;
    this.track = track;
    /** @type {StormClient[]} */
    this.clients = [];
    this.closing = false;
    this.stats = newStats();
    this.url = '';
    /** @type {3|4} */
    this.eio = 4;
    /** @type {number[]} */
    this.kinds = [];
    this.delay = { min: 1000, max: 5000 };
    this.state = new Uint8Array(new SharedArrayBuffer(0));
    this.sentAt = new Float64Array(new SharedArrayBuffer(0));
    this.gen = new Int32Array(new SharedArrayBuffer(0));
    this.restored = new Uint8Array(new SharedArrayBuffer(0));
    this.stopping = new Int32Array(new SharedArrayBuffer(4));
    /** @type {import('./eio-client.mjs').EioHooks} */
    this.hooks = {
      onConnected: (conn) => this.onConnected(conn),
      onEvent: (conn, buf) => this.onEvent(conn, buf),
      onClosed: (conn, was, reason) => this.onClosed(conn, was, reason),
    };
  }

  /** Stop reconnecting and forget every client (their connections are closed by the worker's closeAll). */
  reset() {
    this.closing = true;
    for (const c of this.clients) if (c.timer) clearTimeout(c.timer);
    this.clients = [];
  }

  /**
   * Connect every client (at most `concurrency` handshakes in flight); each subscribes once connected.
   * @param {StormSetup} m
   * @returns {Promise<{connected: number, failed: number}>}
   */
  setup(m) {
    this.reset();
    this.closing = false;
    this.url = m.url;
    this.eio = m.eio;
    this.kinds = m.kinds;
    this.delay = { min: m.plan.reconnectDelayMs, max: m.plan.reconnectDelayMaxMs };
    this.state = new Uint8Array(m.state);
    this.sentAt = new Float64Array(m.sentAt);
    this.gen = new Int32Array(m.gen);
    this.restored = new Uint8Array(m.restored);
    this.stopping = new Int32Array(m.stopping);
    this.stats = newStats();
    this.clients = m.clients.map((i) => {
      const channels = stormChannels(i, m.plan);
      const headers = { [USER_HEADER_NAME]: String(i + 1) };
      return {
        i,
        channels,
        frames: m.kinds.map((k) => channelFrame('subscribe', channels[k], headers)),
        conn: null,
        attempt: 0,
        timer: null,
        settle: null,
        recovery: m.recovery ? {} : undefined,
      };
    });
    return new Promise((resolve) => {
      let next = 0;
      let inflight = 0;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        const connected = this.clients.filter((c) => c.conn?.connected).length;
        resolve({ connected, failed: this.clients.length - connected });
      };
      const deadline = setTimeout(finish, m.timeoutMs);
      const launch = () => {
        while (!done && inflight < m.concurrency && next < this.clients.length) {
          const c = this.clients[next++];
          inflight++;
          c.settle = () => {
            inflight--;
            if (next >= this.clients.length && inflight === 0) finish();
            else launch();
          };
          this.connect(c);
        }
      };
      if (this.clients.length === 0) finish();
      else launch();
    });
  }

  /** Start counting a new phase. */
  begin() {
    this.stats = newStats();
  }

  /** @returns {StormStats} the current phase's counters */
  collect() {
    return this.stats;
  }

  /** @param {StormClient} c */
  connect(c) {
    c.timer = null;
    this.stats.attempts++;
    c.conn = new EioConnection(this.url, this.eio, c.frames, this.hooks, c, c.recovery);
    this.track(c.conn);
  }

  /**
   * Namespace connected; EioConnection has just sent the subscribes.
   * @param {EioConnection} conn
   */
  onConnected(conn) {
    const c = /** @type {StormClient} */ (conn.tag);
    if (conn !== c.conn) return;
    Atomics.add(this.counters, SLOT.OPEN, 1);
    c.attempt = 0;
    this.stats.connects++;
    if (conn.recovered) this.stats.recovered++;
    Atomics.store(this.restored, c.i, conn.recovered ? 1 : 0);
    const now = epochMs();
    for (const k of this.kinds) {
      this.sentAt[c.i * KINDS + k] = now;
      Atomics.store(this.state, c.i * KINDS + k, STATE.PENDING);
    }
    Atomics.add(this.gen, c.i, 1);
    const s = c.settle;
    c.settle = null;
    s?.();
  }

  /**
   * @param {EioConnection} conn
   * @param {Buffer} buf `42[event, channel, ...]`
   */
  onEvent(conn, buf) {
    const c = /** @type {StormClient} */ (conn.tag);
    if (conn !== c.conn) return;
    if (readStamp(buf)) {
      // a probe: its seq is the kind of channel it was published to
      if (stamp.seq === KIND.PUBLIC || stamp.seq === KIND.PRIVATE) this.confirm(c, stamp.seq);
    } else if (buf.subarray(0, PRESENCE_SUBSCRIBED.length).equals(PRESENCE_SUBSCRIBED)) {
      this.confirm(c, KIND.PRESENCE);
    } else if (buf.subarray(0, SUBSCRIPTION_ERROR.length).equals(SUBSCRIPTION_ERROR)) {
      const [, channel, status] = JSON.parse(buf.toString('utf8', 2));
      const k = c.channels.indexOf(channel);
      const slot = c.i * KINDS + k;
      if (k < 0 || this.state[slot] !== STATE.PENDING) return;
      Atomics.store(this.state, slot, STATE.REFUSED);
      const key = `${KIND_NAMES[k]} ${status}`;
      this.stats.refused[key] = (this.stats.refused[key] ?? 0) + 1;
    }
  }

  /**
   * @param {StormClient} c
   * @param {number} k kind
   */
  confirm(c, k) {
    const slot = c.i * KINDS + k;
    if (this.state[slot] !== STATE.PENDING) return;
    Atomics.store(this.state, slot, STATE.SUBSCRIBED);
    this.stats.hist[k][bucketOf(epochMs() - this.sentAt[slot])]++;
    this.stats.confirmed[k]++;
  }

  /**
   * A connection closed or an attempt failed: reconnect after socket.io-client's backoff.
   * @param {EioConnection} conn
   * @param {boolean} wasConnected
   * @param {string} reason
   */
  onClosed(conn, wasConnected, reason) {
    const c = /** @type {StormClient} */ (conn.tag);
    if (conn !== c.conn) return;
    if (wasConnected) Atomics.sub(this.counters, SLOT.OPEN, 1);
    c.conn = null;
    for (const k of this.kinds) Atomics.store(this.state, c.i * KINDS + k, STATE.NONE);
    const s = c.settle;
    c.settle = null;
    s?.();
    if (this.closing) return;
    if (wasConnected) this.stats.disconnects++;
    else {
      // a refusal by the old server while it shuts down is by design; the new server's are failures
      const key = Atomics.load(this.stopping, 0) ? `old server: ${reason}` : reason;
      this.stats.attemptFailures[key] = (this.stats.attemptFailures[key] ?? 0) + 1;
    }
    c.timer = setTimeout(() => this.connect(c), backoffMs(c.attempt++, this.delay.min, this.delay.max));
  }
}
