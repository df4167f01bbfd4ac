// @ts-check
// Shared plumbing for targets: spawn the server, wait for HTTP readiness.

import { spawnChild, stopChild, waitFor, httpStatus } from '../lib/proc.mjs';

/**
 * @typedef {object} RunningServer
 * @property {number} pid process whose tree is sampled for CPU and RSS
 * @property {(graceMs?: number) => Promise<number|NodeJS.Signals|null>} stop SIGTERM, SIGKILL after graceMs
 *   (default 3 s); resolves to the exit code, or the signal that ended it
 * @property {() => string} logTail last lines of the server's output
 * @property {() => boolean} alive false once the process has exited
 */

/**
 * Environment for a server child: ours minus variables that would redirect or
 * reconfigure a target (LARAVEL_ECHO_SERVER_*, ECHO_RELAY_*, REDIS_*).
 * @param {Record<string, string>} extra
 * @returns {NodeJS.ProcessEnv}
 */
export function childEnv(extra) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(LARAVEL_ECHO_SERVER_|ECHO_RELAY_|REDIS_)/.test(k) || k === 'NODE_OPTIONS') delete env[k];
  }
  return { ...env, NODE_ENV: 'production', ...extra };
}

/**
 * Spawn a server and wait until `isReady(port)` resolves truthy.
 * @param {object} o
 * @param {string} o.name
 * @param {string} o.cmd
 * @param {string[]} o.args
 * @param {string} [o.cwd]
 * @param {NodeJS.ProcessEnv} o.env
 * @param {number} o.port
 * @param {(port: number) => Promise<boolean>} o.isReady
 * @param {number} [o.timeoutMs]
 * @returns {Promise<RunningServer>}
 */
export async function launch({ name, cmd, args, cwd, env, port, isReady, timeoutMs = 30_000 }) {
  // BENCH_SERVER_NODE_ARGS goes to every Node-run target before its script, e.g.
  // `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the servers under the benchmark's load.
  const nodeArgs =
    cmd === process.execPath ? (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean) : [];
  const child = spawnChild(cmd, [...nodeArgs, ...args], { cwd, env, name });
  try {
    await waitFor(() => isReady(port), { timeoutMs, intervalMs: 100, what: `${name} readiness`, child });
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    pid: /** @type {number} */ (child.pid), // it answered readiness, so it was spawned
    stop: (graceMs) => stopChild(child, graceMs).then(() => child.exited),
    logTail: () => child.logTail(),
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}

/**
 * Readiness through the socket.io polling handshake.
 * @param {3|4} eio
 * @returns {(port: number) => Promise<boolean>}
 */
export const handshakeReady = (eio) => async (port) =>
  (await httpStatus(port, `/socket.io/?EIO=${eio}&transport=polling`)) === 200;
