// @ts-check
// Registry of benchmark targets.

import bare from './bare.mjs';
import laravelEchoServer from './laravel-echo-server.mjs';
import echoRelay, { echoRelayNoRecovery } from './echo-relay.mjs';

/**
 * @typedef {object} Target
 * @property {string} name
 * @property {string} description
 * @property {(3|4)[]} eio Engine.IO protocol versions the target is driven with
 * @property {(opts: object) => string|null} unavailable reason to skip, or null
 * @property {(opts: object) => string} version
 * @property {(ctx: {port: number, redisPort: number, dir: string, authHost?: string, authEndpoint?: string}, opts: object) => Promise<import('./common.mjs').RunningServer>} start
 *   authHost/authEndpoint: where to send private/presence channel auth (S4 passes its stub)
 * @property {Record<string, string>} [notApplicable] scenario name -> why the target cannot run it
 * @property {boolean} [pusher] also serves Pusher protocol clients (app `PUSHER_KEY` of lib/eio-client.mjs):
 *   the fan-out scenarios (S2, S3) then run a third time with them
 */

/** Every target, in report order. @type {Target[]} */
export const TARGETS = [bare, laravelEchoServer, echoRelay, echoRelayNoRecovery];

/**
 * Look targets up by name.
 * @param {string[]} names
 * @returns {Target[]}
 */
export function pickTargets(names) {
  return names.map((n) => {
    const t = TARGETS.find((x) => x.name === n);
    if (!t) throw new Error(`unknown target ${n}; known: ${TARGETS.map((x) => x.name).join(', ')}`);
    return t;
  });
}
