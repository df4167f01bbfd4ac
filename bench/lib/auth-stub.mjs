// @ts-check
// Stub of Laravel's `POST /broadcasting/auth` for the presence scenario: the
// user id comes from a header the bench client puts in `auth.headers` (the
// server forwards those headers), and the answer is the channel_data Laravel's
// RedisBroadcaster returns for a presence channel. Runs in the harness process
// on 127.0.0.1 and a free port.

import { createServer } from 'node:http';

/** Header (lower case, as Node delivers it) that carries the bench user id. */
export const USER_HEADER = 'x-bench-user';

/**
 * @typedef {object} AuthStub
 * @property {string} url base URL for the target's auth host
 * @property {string} endpoint path answered
 * @property {{requests: number, ok: number, denied: number, bad: number}} stats
 * @property {() => void} reset zero the counters
 * @property {() => Promise<void>} close
 */

/**
 * Start the stub.
 * @param {{endpoint?: string}} [o]
 * @returns {Promise<AuthStub>}
 */
export function startAuthStub({ endpoint = '/broadcasting/auth' } = {}) {
  /** @type {AuthStub['stats']} */
  const stats = { requests: 0, ok: 0, denied: 0, bad: 0 };
  /**
   * @param {import('node:http').ServerResponse} res
   * @param {number} status
   * @param {string} body
   */
  const reply = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      stats.requests++;
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
      if (channel.startsWith('private-')) return reply(res, 200, 'true');
      reply(res, 200, JSON.stringify({ channel_data: { user_id: user, user_info: { name: `u${user}` } } }));
    });
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve({
        url: `http://127.0.0.1:${port}`,
        endpoint,
        stats,
        reset() {
          for (const k of /** @type {(keyof typeof stats)[]} */ (Object.keys(stats))) stats[k] = 0;
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
