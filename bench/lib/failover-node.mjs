// @ts-check
// One echo-relay node under observation for bench/failover.mjs: the spawned process and its JSON
// log, a socket.io-client 4 subscriber on a public channel (as Laravel Echo subscribes), and
// /ready + /metrics polled every 50 ms, all stamped with performance.now().

import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { spawnChild, stopChild, freePort, waitFor, httpStatus } from './proc.mjs';
import { childEnv } from '../targets/common.mjs';
import { nowMicros } from './redis.mjs';

const POLL_MS = 50;

/**
 * @typedef {{t: number, level: string, context: string, message: string}} LogLine
 * @typedef {{t: number, seq: number, latencyMs: number}} Delivery
 * @typedef {{t: number, ready: boolean, down: string[], subscriptions: number|null, duplicates: number|null}} Probe
 */

/**
 * GET on 127.0.0.1: status and body (null on error or timeout).
 * @param {number} port
 * @param {string} path
 * @returns {Promise<{status: number|undefined, body: string}|null>}
 */
function httpGetText(port, path) {
  return new Promise((resolve) => {
    const req = httpGet({ host: '127.0.0.1', port, path, timeout: 1000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

/**
 * Names of the checks a 503 from /ready says are down (`unreachable` when it did not answer).
 * @param {{status: number|undefined, body: string}|null} res
 * @returns {string[]}
 */
function downChecks(res) {
  if (!res) return ['unreachable'];
  if (res.status === 200) return [];
  try {
    return Object.keys(JSON.parse(res.body).error ?? {});
  } catch {
    return [`status ${res.status}`];
  }
}

/**
 * Value of an unlabelled metric in a Prometheus text body.
 * @param {string|null} body
 * @param {string} name
 * @returns {number|null}
 */
const metric = (body, name) => {
  const m = body && new RegExp(`^${name} (\\S+)$`, 'm').exec(body);
  return m ? Number(m[1]) : null;
};

export class RelayNode {
  /**
   * @param {object} o
   * @param {string} o.root repository whose dist/main.js is run
   * @param {string} o.dir working directory (no config file of the checkout is read)
   * @param {Record<string, string>} o.env REDIS_* of the topology
   * @param {string} o.name
   */
  constructor({ root, dir, env, name }) {
    this.root = root;
    this.dir = dir;
    this.env = env;
    this.name = name;
    this.port = 0;
    /** @type {LogLine[]} */
    this.logs = [];
    /** @type {Delivery[]} */
    this.deliveries = [];
    /** @type {Probe[]} */
    this.probes = [];
    /** @type {import('./proc.mjs').BenchChild|undefined} */
    this.child = undefined;
    /** @type {import('socket.io-client').Socket|undefined} */
    this.socket = undefined;
    /** @type {NodeJS.Timeout|undefined} */
    this.poller = undefined;
    this.polling = false;
  }

  /** Spawn echo-relay and wait until /ready answers 200. */
  async start() {
    this.port = await freePort();
    const child = spawnChild(process.execPath, [join(this.root, 'dist', 'main.js')], {
      cwd: this.dir,
      name: this.name,
      env: childEnv({
        PORT: String(this.port),
        REDIS_PREFIX: 'laravel_database_',
        ECHO_RELAY_LOG_FORMAT: 'json',
        ...this.env,
      }),
    });
    this.child = child;
    let partial = '';
    child.stdout?.on('data', (chunk) => {
      const t = performance.now();
      const lines = (partial + String(chunk)).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.logLine(t, line);
    });
    await waitFor(async () => (await httpStatus(this.port, '/ready')) === 200, {
      timeoutMs: 60_000,
      what: `${this.name} readiness`,
      child,
    });
  }

  /**
   * @param {number} t
   * @param {string} line
   */
  logLine(t, line) {
    if (!line.trim()) return;
    try {
      const j = JSON.parse(line);
      this.logs.push({ t, level: String(j.level), context: String(j.context ?? ''), message: String(j.message) });
    } catch {
      this.logs.push({ t, level: 'raw', context: '', message: line });
    }
  }

  /**
   * Connect the Echo-like client and subscribe it to `channel`; every event's `data.seq` and
   * publish→receive latency (from `data.ts`, epoch µs) is recorded.
   * @param {string} channel
   * @returns {Promise<void>}
   */
  connectClient(channel) {
    const socket = io(`http://127.0.0.1:${this.port}`, { transports: ['websocket'], reconnection: true });
    this.socket = socket;
    socket.on('connect', () => socket.emit('subscribe', { channel, auth: { headers: {} } }));
    socket.onAny((_event, ch, data) => {
      if (ch !== channel || typeof data?.seq !== 'number') return;
      this.deliveries.push({ t: performance.now(), seq: data.seq, latencyMs: (nowMicros() - data.ts) / 1000 });
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
  }

  /** Poll /ready and /metrics every 50 ms until stop(). */
  startPolling() {
    this.polling = true;
    const tick = async () => {
      if (!this.polling) return;
      const t = performance.now();
      const [ready, res] = await Promise.all([httpGetText(this.port, '/ready'), httpGetText(this.port, '/metrics')]);
      const body = res?.body ?? null;
      this.probes.push({
        t,
        ready: ready?.status === 200,
        down: downChecks(ready),
        subscriptions: metric(body, 'echo_relay_redis_subscriptions'),
        duplicates: metric(body, 'echo_relay_redis_duplicates_merged_total'),
      });
      if (this.polling) this.poller = setTimeout(() => void tick(), Math.max(0, POLL_MS - (performance.now() - t)));
    };
    void tick();
  }

  /**
   * Live subscriptions now, from /metrics.
   * @returns {Promise<number|null>}
   */
  async subscriptions() {
    return metric((await httpGetText(this.port, '/metrics'))?.body ?? null, 'echo_relay_redis_subscriptions');
  }

  /**
   * `host:port` of the Redis nodes this node holds a live subscription on now, from its log.
   * @returns {string[]}
   */
  heldNodes() {
    const held = new Set();
    for (const { message } of this.logs) {
      const on = /^Subscribed to Redis pattern .* on (\S+) \(/.exec(message);
      if (on) held.add(on[1]);
      const off = /^(?:Redis subscription on|Leaving the Redis subscription on) ([^\s;:]+(?::\d+)?)/.exec(message);
      if (off) held.delete(off[1]);
    }
    return [...held];
  }

  stopPolling() {
    this.polling = false;
    clearTimeout(this.poller);
  }

  async stop() {
    this.stopPolling();
    this.socket?.close();
    await stopChild(this.child, 5000);
  }
}
