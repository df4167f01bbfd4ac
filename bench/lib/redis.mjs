// @ts-check
// redis-server lifecycle (one per target, on a free port, no persistence) and
// the Laravel-style publisher that stamps seq/step/ts into every payload.

import { Redis } from 'ioredis';
import { spawnChild, stopChild, freePort, waitFor, sleep } from './proc.mjs';

/** Binary used for the per-target Redis. */
export const REDIS_SERVER = process.env.BENCH_REDIS_SERVER || '/usr/bin/redis-server';

/**
 * The arguments every benchmark redis-server runs with: loopback only, nothing on disk but in
 * `dir`, quiet, in the foreground.
 * @param {number} port
 * @param {string} dir
 * @returns {string[]}
 */
export function redisServerArgs(port, dir) {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--loglevel',
    'warning',
    '--daemonize',
    'no',
  ];
}

/**
 * Start a throw-away redis-server on a free loopback port.
 * @param {{dir: string}} opts working directory (no files are written: persistence is off)
 * @returns {Promise<{port: number, pid: number, stop: () => Promise<void>}>}
 */
export async function startRedis({ dir }) {
  const port = await freePort();
  const child = spawnChild(REDIS_SERVER, [...redisServerArgs(port, dir), '--maxclients', '1000'], {
    name: 'redis-server',
  });
  const probe = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await waitFor(
      async () => {
        try {
          if (probe.status !== 'ready') await probe.connect();
          return (await probe.ping()) === 'PONG';
        } catch {
          probe.disconnect();
          return false;
        }
      },
      { timeoutMs: 10_000, what: 'redis-server start', child },
    );
  } finally {
    probe.disconnect();
  }
  // it answered PING, so it was spawned and has a pid
  return { port, pid: /** @type {number} */ (child.pid), stop: () => stopChild(child) };
}

/**
 * Connect a publishing client.
 * @param {number} port
 * @returns {Promise<Redis>}
 */
export async function createPublisher(port) {
  const r = new Redis({ host: '127.0.0.1', port, enableAutoPipelining: false, maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  await r.ping();
  return r;
}

/** Epoch time in integer microseconds, comparable across threads and processes. */
export const nowMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

const EVENT = 'App\\Events\\Bench';
// JSON-encoded once: {"event":"App\\Events\\Bench","data":
const HEAD = `{"event":${JSON.stringify(EVENT)},"data":`;
const TAIL = ',"socket":null}';

/**
 * Build a Laravel RedisBroadcaster payload whose `data` is about `dataBytes`
 * long. seq/step/ts come first so receivers can find them with one indexOf.
 * @param {number} seq global sequence number
 * @param {number} step step id (0 = readiness probe)
 * @param {number} ts epoch microseconds
 * @param {string} pad padding string
 * @returns {string}
 */
export function laravelPayload(seq, step, ts, pad) {
  return `${HEAD}{"seq":${seq},"step":${step},"ts":${ts},"pad":"${pad}"}${TAIL}`;
}

/**
 * Padding that makes `data` about `dataBytes` long with typical seq/step/ts widths.
 * @param {number} dataBytes
 * @returns {string}
 */
export function makePad(dataBytes) {
  const sample = `{"seq":1000000,"step":100,"ts":${nowMicros()},"pad":""}`;
  return 'x'.repeat(Math.max(0, dataBytes - sample.length));
}

let globalSeq = 0;

/**
 * Publish at a steady rate for a fixed time. Messages are released every
 * `tickMs` in the number due so far (rate * elapsed), so the average rate is
 * exact and bursts are at most one tick's worth.
 * @param {object} o
 * @param {{publish(channel: string, message: string): Promise<unknown>}} o.redis publisher (a Redis client, or one
 *   that publishes to several)
 * @param {number} o.rate messages per second (total)
 * @param {number} o.durationMs
 * @param {number} o.step step id stamped into data
 * @param {(i: number) => string} o.channelOf channel name for the i-th message of this step
 * @param {string} o.pad
 * @param {number} [o.tickMs]
 * @returns {Promise<{published: number, elapsedMs: number, perChannel: Map<string, number>}>}
 */
export async function pacedPublish({ redis, rate, durationMs, step, channelOf, pad, tickMs = 5 }) {
  const total = Math.round((rate * durationMs) / 1000);
  const perChannel = new Map();
  const t0 = performance.now();
  let sent = 0;
  const pending = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const ch = channelOf(sent);
      perChannel.set(ch, (perChannel.get(ch) ?? 0) + 1);
      pending.push(redis.publish(ch, laravelPayload(++globalSeq, step, nowMicros(), pad)));
    }
    if (pending.length > 512) await Promise.all(pending.splice(0));
    if (sent < total) await sleep(tickMs);
  }
  await Promise.all(pending);
  return { published: sent, elapsedMs: performance.now() - t0, perChannel };
}

/**
 * Publish one readiness probe per channel; `seq` carries the channel index so a
 * client can tell which of its subscriptions is live.
 * @param {Redis} redis
 * @param {{name: string, index: number}[]} channels
 * @param {string} pad
 * @returns {Promise<void>}
 */
export async function publishProbes(redis, channels, pad) {
  const p = redis.pipeline();
  for (const c of channels) p.publish(c.name, laravelPayload(c.index, 0, nowMicros(), pad));
  await p.exec();
}
