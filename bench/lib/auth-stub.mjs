// @ts-check
// Stub of Laravel's `POST /broadcasting/auth` for the presence (S4) and reconnect-storm (S5)
// scenarios: the user id comes from a header the bench client puts in `auth.headers` (the
// server forwards those headers), and the answer is what Laravel's RedisBroadcaster returns:
// `true` for a private channel, the channel_data for a presence channel. Runs in the harness
// process on 127.0.0.1 and a free port. S5 gives it Laravel's manners: each answer waits a
// random 5-20 ms (a PHP request's time), and connections are kept alive or not, as the app's
// web server does.

import { createServer } from 'node:http';

/** Header (lower case, as Node delivers it) that carries the bench user id. */
export const USER_HEADER = 'x-bench-user';

/** Width of the buckets requests are counted in, for the peak rate. */
const RATE_BUCKET_MS = 100;

/**
 * @typedef {object} AuthStub
 * @property {string} url base URL for the target's auth host
 * @property {string} endpoint path answered
 * @property {{requests: number, ok: number, denied: number, bad: number, connections: number, inFlight: number, peakInFlight: number, firstAt: number, lastAt: number}} stats
 *   connections: TCP connections the target opened to the stub; inFlight: requests not answered
 *   yet; firstAt/lastAt: performance.now() of the first and last request (0: none)
 * @property {() => number} peakPerSec most requests received in any 1 s window since the last reset
 * @property {(fn: ((channel: string, user: number) => void)|null) => void} onAuthorised called as each 200 is sent
 * @property {() => void} reset zero the counters
 * @property {() => Promise<void>} close
 */

/**
 * Start the stub.
 * @param {{endpoint?: string, delayMs?: [number, number], keepAlive?: boolean}} [o] delayMs: each
 *   answer waits a uniform random time in [min, max] ms; keepAlive false: `Connection: close` on every answer
 * @returns {Promise<AuthStub>}
 */
export function startAuthStub({ endpoint = '/broadcasting/auth', delayMs = [0, 0], keepAlive = true } = {}) {
  /** @type {AuthStub['stats']} */
  const stats = {
    requests: 0,
    ok: 0,
    denied: 0,
    bad: 0,
    connections: 0,
    inFlight: 0,
    peakInFlight: 0,
    firstAt: 0,
    lastAt: 0,
  };
  /** @type {number[]} requests received per RATE_BUCKET_MS since t0 */
  let buckets = [];
  let t0 = performance.now();
  /** @type {((channel: string, user: number) => void)|null} */
  let authorised = null;
  const [minDelay, maxDelay] = delayMs;
  /**
   * @param {import('node:http').ServerResponse} res
   * @param {number} status
   * @param {string} body
   */
  const send = (res, status, body) => {
    stats.inFlight--;
    /** @type {Record<string, string|number>} */
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    if (!keepAlive) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(body);
  };
  /**
   * @param {import('node:http').ServerResponse} res
   * @param {number} status
   * @param {string} body
   */
  const reply = (res, status, body) => {
    if (maxDelay <= 0) return send(res, status, body);
    setTimeout(send, minDelay + Math.random() * (maxDelay - minDelay), res, status, body);
  };
  const server = createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      stats.requests++;
      stats.lastAt = performance.now();
      if (!stats.firstAt) stats.firstAt = stats.lastAt;
      stats.inFlight++;
      if (stats.inFlight > stats.peakInFlight) stats.peakInFlight = stats.inFlight;
      const b = Math.floor((performance.now() - t0) / RATE_BUCKET_MS);
      buckets[b] = (buckets[b] ?? 0) + 1;
      if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== endpoint) {
        stats.bad++;
        return reply(res, 404, '{"message":"not found"}');
      }
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const channel = form.get('channel_name') ?? '';
      const user = Number(req.headers[USER_HEADER]);
      if (!Number.isInteger(user) || user <= 0 || !/^(presence|private)-/.test(channel)) {
        stats.denied++;
        return reply(res, 403, '{"message":"denied"}');
      }
      stats.ok++;
      if (authorised) {
        const fn = authorised;
        res.once('finish', () => fn(channel, user));
      }
      if (channel.startsWith('private-')) return reply(res, 200, 'true');
      reply(res, 200, JSON.stringify({ channel_data: { user_id: user, user_info: { name: `u${user}` } } }));
    });
  });
  server.on('connection', () => stats.connections++);
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve({
        url: `http://127.0.0.1:${port}`,
        endpoint,
        stats,
        peakPerSec() {
          const span = 1000 / RATE_BUCKET_MS;
          let best = 0;
          let sum = 0;
          for (let i = 0; i < buckets.length; i++) {
            sum += (buckets[i] ?? 0) - (i >= span ? (buckets[i - span] ?? 0) : 0);
            if (sum > best) best = sum;
          }
          return best;
        },
        onAuthorised(fn) {
          authorised = fn;
        },
        reset() {
          for (const k of /** @type {(keyof typeof stats)[]} */ (Object.keys(stats)))
            if (k !== 'inFlight') stats[k] = 0;
          stats.peakInFlight = stats.inFlight;
          buckets = [];
          t0 = performance.now();
        },
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
