// @ts-check
// Worker-thread side of S4 (presence churn): a pool of presence clients, each
// one socket of one user in one presence channel. Each socket keeps the member
// list a Laravel Echo app would show (`presence:subscribed` sets it, `joining`
// adds, `leaving` removes) so the end state can be checked against who is
// really there. Presence events are rare next to broadcasts, so frames are
// JSON-parsed here.
//
// Socket states: connecting -> idle -> joining -> joined -> left -> (joining |
// connecting) ...; `dead` after an unexpected close.

import { EioConnection, channelFrame } from './eio-client.mjs';
import { createHistogram, bucketOf } from './histogram.mjs';
import { SLOT } from './loadgen-slots.mjs';

/** Header carrying the bench user id to the auth stub (see auth-stub.mjs). */
export const USER_HEADER_NAME = 'X-Bench-User';

const epochMs = () => performance.timeOrigin + performance.now();

/**
 * @typedef {{
 *   phase: string, sent: number, joins: number, leaves: number, errors: number,
 *   statuses: Record<string, number>, skipped: number, hist: Float64Array<ArrayBuffer>,
 *   firstSent: number, lastAck: number, start?: number, end?: number,
 * }} PhaseStats
 */

/**
 * Counters of one phase. `hist` holds subscribe -> presence:subscribed latency.
 * @param {string} [phase] label of the phase, kept on each socket it (re)joins
 * @returns {PhaseStats}
 */
function newStats(phase = '') {
  return {
    phase,
    sent: 0,
    joins: 0,
    leaves: 0,
    errors: 0,
    statuses: {},
    skipped: 0,
    hist: createHistogram(),
    firstSent: 0,
    lastAck: 0,
  };
}

/**
 * @typedef {object} PresenceSocket
 * @property {number} user
 * @property {number} room
 * @property {string} channel
 * @property {boolean} churn
 * @property {'unsubscribe'|'disconnect'} mode how it leaves while churning
 * @property {boolean} endAbsent a churner that ends the churn unsubscribed
 */

/**
 * A socket as the pool tracks it (also the tag of its EioConnection).
 * @typedef {PresenceSocket & {
 *   subFrame: string,
 *   unsubFrame: string,
 *   conn: EioConnection|null,
 *   state: 'new'|'connecting'|'idle'|'joining'|'joined'|'left'|'dead',
 *   joinOnConnect: boolean,
 *   waiter: (() => void)|null,
 *   timer: NodeJS.Timeout|null,
 *   tSent: number,
 *   stats: PhaseStats|null,
 *   view: Set<string>|null,
 * }} PresenceRecord
 */

/** The presence clients of one worker thread. */
export class PresencePool {
  /**
   * @param {Int32Array} counters the worker's shared counters (OPEN, DROPPED)
   * @param {(conn: EioConnection) => void} track hands each connection to the worker (EIO3 pings, closeAll)
   */
  constructor(counters, track) {
    this.counters = counters;
    this.track = track;
    /** @type {PresenceRecord[]} */
    this.socks = [];
    this.url = '';
    /** @type {3|4} */
    this.eio = 4;
    this.closing = false;
    this.stats = newStats();
    // early: joining/leaving that reached a socket before its own presence:subscribed (an Echo
    // app's here() list then replaces whatever joining()/leaving() did with them)
    this.events = { joining: 0, leaving: 0, early: 0, duplicateJoining: 0, unknownLeaving: 0, unexpectedSubscribed: 0 };
    /** @type {import('./eio-client.mjs').EioHooks} */
    this.hooks = {
      onConnected: (conn) => this.onConnected(conn),
      onEvent: (conn, buf) => this.onEvent(conn, buf),
      onClosed: (conn, was, reason) => this.onClosed(conn, was, reason),
    };
  }

  /** Forget every socket (their connections are closed by the worker's closeAll). */
  reset() {
    this.closing = true;
    for (const r of this.socks) if (r.timer) clearTimeout(r.timer);
    this.socks = [];
  }

  /**
   * Open one connection per socket, without subscribing.
   * @param {{url: string, eio: 3|4, sockets: PresenceSocket[], channelPrefix: string, concurrency: number, timeoutMs: number}} m
   * @returns {Promise<{connected: number, failed: number, ms: number}>}
   */
  setup(m) {
    this.reset();
    this.closing = false;
    this.url = m.url;
    this.eio = m.eio;
    this.stats = newStats();
    for (const k of /** @type {(keyof PresencePool['events'])[]} */ (Object.keys(this.events))) this.events[k] = 0;
    this.socks = m.sockets.map((s) => {
      const headers = { [USER_HEADER_NAME]: String(s.user) };
      /** @type {PresenceRecord} */
      const rec = {
        ...s,
        subFrame: channelFrame('subscribe', s.channel, headers),
        unsubFrame: channelFrame('unsubscribe', s.channel, headers),
        conn: null,
        state: 'new',
        joinOnConnect: false,
        waiter: null,
        timer: null,
        tSent: 0,
        stats: null,
        view: null,
      };
      return rec;
    });
    const t0 = performance.now();
    return this.bounded(this.socks, m.concurrency, m.timeoutMs, (r) => this.connect(r)).then(() => {
      const connected = this.socks.filter((r) => r.state === 'idle').length;
      return { connected, failed: this.socks.length - connected, ms: performance.now() - t0 };
    });
  }

  /**
   * Run `start(rec)` for each record with at most `concurrency` unsettled at once.
   * @param {PresenceRecord[]} recs
   * @param {number} concurrency
   * @param {number} timeoutMs
   * @param {(rec: PresenceRecord) => void} start must lead to {@link settle} of the record
   * @returns {Promise<void>}
   */
  bounded(recs, concurrency, timeoutMs, start) {
    return new Promise((/** @type {(v?: void) => void} */ resolve) => {
      let next = 0;
      let inflight = 0;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        resolve();
      };
      const deadline = setTimeout(finish, timeoutMs);
      const launch = () => {
        while (!done && inflight < concurrency && next < recs.length) {
          const r = recs[next++];
          inflight++;
          r.waiter = () => {
            inflight--;
            if (next >= recs.length && inflight === 0) finish();
            else launch();
          };
          start(r);
        }
      };
      if (recs.length === 0) finish();
      else launch();
    });
  }

  /** @param {PresenceRecord} r */
  connect(r) {
    r.state = 'connecting';
    r.conn = new EioConnection(this.url, this.eio, [], this.hooks, r);
    this.track(r.conn);
  }

  /** @param {PresenceRecord} r the record's pending step (connect or join) finished, one way or another */
  settle(r) {
    const w = r.waiter;
    r.waiter = null;
    w?.();
  }

  /** @param {PresenceRecord} r */
  sendJoin(r) {
    const stats = this.stats;
    r.state = 'joining';
    r.view = null;
    r.stats = stats;
    r.tSent = performance.now();
    if (!stats.firstSent) stats.firstSent = epochMs();
    stats.sent++;
    if (!r.conn?.send(r.subFrame)) this.fail(r, 'connection gone before subscribe', 'dead');
  }

  /**
   * Leave the channel: `unsubscribe`, or close the connection.
   * @param {PresenceRecord} r
   */
  leave(r) {
    if (r.mode === 'disconnect') {
      const c = r.conn;
      r.conn = null;
      if (c) {
        c.intentional = true;
        c.close('churn');
      }
    } else r.conn?.send(r.unsubFrame);
    r.state = 'left';
    r.view = null;
    this.stats.leaves++;
  }

  /** @param {PresenceRecord} r */
  rejoin(r) {
    if (r.mode === 'disconnect') {
      r.joinOnConnect = true;
      this.connect(r);
    } else this.sendJoin(r);
  }

  /**
   * A join that ended without `presence:subscribed`, or a socket lost. Counted in
   * the phase that is running (an answer to a join counts in the phase that sent it).
   * @param {PresenceRecord} r
   * @param {string} why
   * @param {'idle'|'dead'} next the socket's state from now on
   */
  fail(r, why, next) {
    const st = r.state === 'joining' && r.stats ? r.stats : this.stats;
    r.state = next;
    st.errors++;
    st.statuses[why] = (st.statuses[why] ?? 0) + 1;
    this.settle(r);
  }

  /** @param {EioConnection} conn */
  onConnected(conn) {
    Atomics.add(this.counters, SLOT.OPEN, 1);
    const r = /** @type {PresenceRecord} */ (conn.tag);
    if (conn !== r.conn) return;
    if (r.joinOnConnect) {
      r.joinOnConnect = false;
      this.sendJoin(r);
    } else {
      r.state = 'idle';
      this.settle(r);
    }
  }

  /**
   * @param {EioConnection} conn
   * @param {Buffer} buf `42[event, channel, arg]`
   */
  onEvent(conn, buf) {
    const r = /** @type {PresenceRecord} */ (conn.tag);
    if (conn !== r.conn) return;
    let msg;
    try {
      msg = JSON.parse(buf.toString('utf8', 2));
    } catch {
      return;
    }
    const [event, channel, arg] = msg;
    if (channel !== r.channel) return;
    switch (event) {
      case 'presence:subscribed': {
        if (r.state !== 'joining') {
          this.events.unexpectedSubscribed++;
          return;
        }
        const ms = performance.now() - r.tSent;
        const st = /** @type {PhaseStats} */ (r.stats); // set by sendJoin
        st.hist[bucketOf(ms)]++;
        st.joins++;
        st.lastAck = epochMs();
        r.state = 'joined';
        r.view = new Set(
          (Array.isArray(arg) ? arg : []).map((/** @type {{user_id?: unknown}} */ m) => String(m?.user_id)),
        );
        this.settle(r);
        break;
      }
      case 'presence:joining': {
        this.events.joining++;
        const id = String(arg?.user_id);
        if (r.state === 'joining') this.events.early++;
        if (!r.view) break;
        if (r.view.has(id)) this.events.duplicateJoining++;
        else r.view.add(id);
        break;
      }
      case 'presence:leaving': {
        this.events.leaving++;
        if (r.state === 'joining') this.events.early++;
        if (r.view && !r.view.delete(String(arg?.user_id))) this.events.unknownLeaving++;
        break;
      }
      case 'subscription_error': {
        if (r.state !== 'joining') break;
        this.fail(r, `subscription_error ${arg}`, 'idle');
        break;
      }
      default:
    }
  }

  /**
   * @param {EioConnection} conn
   * @param {boolean} wasConnected
   * @param {string} reason
   */
  onClosed(conn, wasConnected, reason) {
    if (wasConnected) Atomics.sub(this.counters, SLOT.OPEN, 1);
    const r = /** @type {PresenceRecord} */ (conn.tag);
    if (this.closing || conn.intentional || conn !== r.conn) return;
    if (wasConnected) Atomics.add(this.counters, SLOT.DROPPED, 1);
    r.view = null;
    this.fail(r, `closed: ${reason}`, 'dead');
  }

  /**
   * Phase A: every connected socket subscribes, at most `concurrency` in flight.
   * @param {{concurrency: number, timeoutMs: number}} m
   * @returns {Promise<ReturnType<typeof newStats> & {timeouts: number}>}
   */
  async joinAll(m) {
    this.stats = newStats('join');
    const idle = this.socks.filter((r) => r.state === 'idle');
    await this.bounded(idle, m.concurrency, m.timeoutMs, (r) => this.sendJoin(r));
    return { ...this.stats, timeouts: this.socks.filter((r) => r.state === 'joining').length };
  }

  /**
   * Phase B: for `durationMs`, leave and rejoin churning sockets at `rate`
   * joins/s (each leave is followed by a rejoin `gapMs` later). Sockets go
   * round-robin; one whose previous join is still unanswered is skipped.
   * Then every churner is brought to its end state (present, or absent for
   * `endAbsent` ones) and the call waits until no join is in flight.
   * @param {{rate: number, durationMs: number, gapMs: number, timeoutMs: number}} m
   * @returns {Promise<{churn: PhaseStats, tail: PhaseStats, unsettled: number}>}
   */
  async churn(m) {
    const churn = (this.stats = newStats('churn'));
    churn.start = epochMs();
    await this.churnFor(m, churn);
    churn.end = epochMs();
    const tail = (this.stats = newStats('churn'));
    const unsettled = await this.bringToEndState(m);
    return { churn, tail, unsettled };
  }

  /**
   * The timed part of phase B: every 10 ms, leave as many joined churners as the rate asks for and
   * schedule their rejoin `gapMs` later.
   * @param {{rate: number, durationMs: number, gapMs: number}} m
   * @param {PhaseStats} churn counts the skipped leaves
   * @returns {Promise<void>}
   */
  churnFor(m, churn) {
    const churners = this.socks.filter((r) => r.churn);
    const t0 = performance.now();
    let due = 0;
    let ptr = 0;
    /** @returns {PresenceRecord|null} the next joined churner, round-robin */
    const nextJoined = () => {
      for (let k = 0; k < churners.length; k++) {
        const c = churners[ptr];
        ptr = (ptr + 1) % churners.length;
        if (c.state === 'joined') return c;
      }
      return null;
    };
    return new Promise((resolve) => {
      const tick = () => {
        const elapsed = performance.now() - t0;
        const target = Math.floor((Math.min(elapsed, m.durationMs) * m.rate) / 1000);
        for (; due < target; due++) {
          const r = nextJoined();
          if (!r) {
            churn.skipped++;
            continue;
          }
          this.leave(r);
          r.timer = setTimeout(() => {
            r.timer = null;
            this.rejoin(r);
          }, m.gapMs);
        }
        if (elapsed >= m.durationMs) {
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(tick, 10);
    });
  }

  /**
   * End state: churners marked endAbsent leave, every other socket is (re)joined. A pending
   * rejoin still waits out its gap: a subscribe sent right behind the unsubscribe is a different
   * (racier) case than the churn measures. Waits (bounded by `timeoutMs`) until nothing is in flight.
   * @param {{gapMs: number, timeoutMs: number}} m
   * @returns {Promise<number>} sockets still in flight at the end
   */
  async bringToEndState(m) {
    /** @param {PresenceRecord} r */
    const apply = (r) => {
      const absent = r.churn && r.endAbsent;
      if (r.state === 'joined' && absent) this.leave(r);
      else if (r.state === 'left' && !absent && !r.timer) this.rejoin(r);
      else if (r.state === 'joining' || r.state === 'connecting') r.waiter = () => apply(r);
    };
    for (const r of this.socks) {
      if (r.timer) {
        clearTimeout(r.timer);
        r.timer = setTimeout(() => {
          r.timer = null;
          apply(r);
        }, m.gapMs);
      }
      apply(r);
    }
    const inflight = () =>
      this.socks.filter((r) => r.timer || r.state === 'joining' || r.state === 'connecting').length;
    const until = performance.now() + m.timeoutMs;
    while (inflight() > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
    return inflight();
  }

  /**
   * Who this worker's sockets say is in each room, and what each joined socket's member list shows.
   * @returns {{present: number[][], uncertain: number[][], stuck: object[], views: {room: number, user: number, joinedIn: string, ids: string[]}[], states: Record<string, number>, events: PresencePool['events']}}
   */
  snapshot() {
    /** @type {number[][]} */
    const present = [];
    /** @type {number[][]} */
    const uncertain = [];
    /** @type {{room: number, user: number, joinedIn: string, ids: string[]}[]} */
    const views = [];
    /** @type {object[]} */
    const stuck = [];
    /** @type {Record<string, number>} */
    const states = {};
    for (const r of this.socks) {
      states[r.state] = (states[r.state] ?? 0) + 1;
      if (r.state === 'joined') {
        present.push([r.room, r.user]);
        views.push({ room: r.room, user: r.user, joinedIn: r.stats?.phase ?? '', ids: [...(r.view ?? [])] });
      } else if (r.state === 'joining' || r.state === 'connecting') {
        uncertain.push([r.room, r.user]);
        stuck.push({
          channel: r.channel,
          user: r.user,
          mode: r.mode,
          state: r.state,
          waitedMs: Math.round(performance.now() - r.tSent),
        });
      }
    }
    return { present, uncertain, stuck, views, states, events: { ...this.events } };
  }
}

/**
 * One fresh socket per room subscribes and reports the member list it is sent;
 * each closes as soon as it has its answer.
 * @param {{url: string, eio: 3|4, observers: {room: number, channel: string, user: number}[], timeoutMs: number}} m
 * @returns {Promise<{room: number, ids: string[]|null, error: string|null}[]>}
 */
export function observe(m) {
  return Promise.all(
    m.observers.map(
      (o) =>
        new Promise((resolve) => {
          let done = false;
          /**
           * @param {string[]|null} ids
           * @param {string|null} error
           */
          const finish = (ids, error) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            conn.close('observer done');
            resolve({ room: o.room, ids, error });
          };
          const frame = channelFrame('subscribe', o.channel, { [USER_HEADER_NAME]: String(o.user) });
          const conn = new EioConnection(m.url, m.eio, [frame], {
            onConnected() {},
            onEvent(_c, buf) {
              let msg;
              try {
                msg = JSON.parse(buf.toString('utf8', 2));
              } catch {
                return;
              }
              if (msg[1] !== o.channel) return;
              if (msg[0] === 'presence:subscribed')
                finish(
                  (Array.isArray(msg[2]) ? msg[2] : []).map((/** @type {{user_id?: unknown}} */ x) =>
                    String(x?.user_id),
                  ),
                  null,
                );
              else if (msg[0] === 'subscription_error') finish(null, `subscription_error ${msg[2]}`);
            },
            onClosed(_c, _was, reason) {
              finish(null, `closed: ${reason}`);
            },
          });
          const timer = setTimeout(() => finish(null, 'no presence:subscribed'), m.timeoutMs);
        }),
    ),
  );
}
