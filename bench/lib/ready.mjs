// @ts-check
// End-to-end readiness: a server is ready for load when a message published to
// Redis reaches a subscribed client (HTTP readiness alone does not prove the
// Redis subscription is live).

import { EioConnection, wsUrl, subscribeFrame } from './eio-client.mjs';
import { laravelPayload, nowMicros } from './redis.mjs';
import { sleep } from './proc.mjs';

const CHANNEL = 'bench-ready';

/**
 * Connect one client, subscribe, publish until a delivery arrives.
 * @param {object} o
 * @param {number} o.port
 * @param {import('./eio-client.mjs').ClientKind} o.eio
 * @param {import('ioredis').Redis} o.redis publisher
 * @param {number} [o.timeoutMs]
 * @returns {Promise<number>} ms until the first delivery
 */
export function waitEndToEnd({ port, eio, redis, timeoutMs = 20_000 }) {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    let done = false;
    /** @type {NodeJS.Timeout|undefined} */
    let timer;
    /** @param {Error} [err] */
    const finish = (err) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearInterval(timer);
      conn.close();
      if (err) reject(err);
      else resolve(performance.now() - t0);
    };
    const conn = new EioConnection(wsUrl(port, eio), eio, [subscribeFrame(CHANNEL, eio)], {
      onConnected() {
        timer = setInterval(() => {
          redis.publish(CHANNEL, laravelPayload(0, 1, nowMicros(), '')).catch(() => {});
        }, 100);
      },
      onEvent() {
        finish();
      },
      onClosed(_c, _was, reason) {
        finish(new Error(`readiness client closed: ${reason}`));
      },
    });
    const deadline = setTimeout(() => finish(new Error(`no delivery within ${timeoutMs} ms (EIO${eio})`)), timeoutMs);
  }).finally(() => sleep(0));
}
