// @ts-check
// Target (c): echo-relay, the project's own server, started from its build
// output as `node <root>/dist/echo-relay.mjs (the bundle; dist/main.js for older builds)` with PORT, REDIS_URL and an empty
// REDIS_PREFIX (plus ECHO_RELAY_AUTH_HOST/_ENDPOINT when S4 passes its auth stub), and one app in
// ECHO_RELAY_CLIENTS with a secret, for the Pusher protocol clients of S2 and S3. Skipped with a message while neither exists.
// <root> defaults to the repository holding bench/; override with
// --echo-relay-root=<dir> or BENCH_ECHO_RELAY_ROOT.

import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { launch, childEnv } from './common.mjs';
import { httpStatus } from '../lib/proc.mjs';
import { PUSHER_APP_ID, PUSHER_KEY, PUSHER_SECRET } from '../lib/eio-client.mjs';

const DEFAULT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The server a build runs: the bundle (`dist/echo-relay.mjs`, what `npm start` runs), or for builds
 * from before the bundle existed, `dist/main.js`.
 * @param {string} root
 * @returns {string}
 */
export const entryOf = (root) => {
  const bundle = join(root, 'dist', 'echo-relay.mjs');
  return existsSync(bundle) ? bundle : join(root, 'dist', 'main.js');
};

/**
 * Repository root to take the built server from.
 * @param {{echoRelayRoot?: string}} opts
 * @returns {string}
 */
export const relayRoot = (opts) => resolve(opts.echoRelayRoot || process.env.BENCH_ECHO_RELAY_ROOT || DEFAULT_ROOT);

/**
 * Ready when GET /ready answers 200. While it answers 503 the server is still
 * starting. Any other answer (404: no such route) or none at all falls back to
 * a successful socket.io handshake.
 * @param {number} port
 * @returns {Promise<boolean>}
 */
async function relayReady(port) {
  const s = await httpStatus(port, '/ready');
  if (s === 200) return true;
  if (s === 503) return false;
  return (await httpStatus(port, '/socket.io/?EIO=4&transport=polling')) === 200;
}

/** @type {import('./index.mjs').Target} */
const echoRelay = {
  name: 'echo-relay',
  description: 'echo-relay (this project), node dist/echo-relay.mjs',
  eio: [4, 3],
  pusher: true,
  unavailable: (opts) => {
    const main = entryOf(relayRoot(opts));
    return existsSync(main) ? null : `${main} not found (build echo-relay first: npm run build)`;
  },
  version: (opts) => {
    const root = relayRoot(opts);
    let v = 'echo-relay';
    try {
      v += ` ${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version ?? ''}`.trimEnd();
    } catch {
      /* no package.json */
    }
    try {
      const sha = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      v += ` (${sha.toString().trim()})`;
    } catch {
      /* not a git checkout */
    }
    return v;
  },
  // cwd is the session's temp dir so no laravel-echo-server.json or .env of the
  // checkout is picked up and nothing is written into it.
  start: ({ port, redisPort, dir, authHost, authEndpoint }, opts) => {
    const root = relayRoot(opts);
    const auth = {};
    if (authHost) auth.ECHO_RELAY_AUTH_HOST = authHost;
    if (authEndpoint) auth.ECHO_RELAY_AUTH_ENDPOINT = authEndpoint;
    return launch({
      name: 'echo-relay',
      cmd: process.execPath,
      args: [entryOf(root)],
      cwd: dir,
      env: childEnv({
        PORT: String(port),
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        REDIS_PREFIX: '',
        // The app the Pusher protocol clients of S2 and S3 connect to.
        ECHO_RELAY_CLIENTS: JSON.stringify([{ appId: PUSHER_APP_ID, key: PUSHER_KEY, secret: PUSHER_SECRET }]),
        ...auth,
        .../** @type {{echoRelayEnv?: Record<string, string>}} */ (opts).echoRelayEnv,
      }),
      port,
      isReady: relayReady,
      timeoutMs: 60_000,
    });
  },
};

export default echoRelay;

/**
 * echo-relay with missed-event recovery off (`ECHO_RELAY_RECOVERY=false`): broadcasts go straight
 * from Laravel's subscription to the sockets, without the history's ordering hop and offsets. Run
 * beside `echo-relay` to measure what recovery costs.
 * @type {import('./index.mjs').Target}
 */
export const echoRelayNoRecovery = {
  ...echoRelay,
  name: 'echo-relay-no-recovery',
  description: 'echo-relay with ECHO_RELAY_RECOVERY=false',
  start: (ctx, opts) => echoRelay.start(ctx, { ...opts, echoRelayEnv: { ECHO_RELAY_RECOVERY: 'false' } }),
};
