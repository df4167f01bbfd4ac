// @ts-check
// Target (a): bare socket.io 4 + ioredis server, the cost floor.

import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { launch, childEnv, handshakeReady } from './common.mjs';

const SERVER = fileURLToPath(new URL('./bare-server.mjs', import.meta.url));
/** @param {string} name */
const pkgVersion = (name) =>
  JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;

/** @type {import('./index.mjs').Target} */
export default {
  name: 'bare',
  description: 'socket.io + ioredis, psubscribe(*), parse, emit to room: the floor',
  eio: [4, 3],
  notApplicable: { s4: 'no presence channels: `subscribe` only joins a socket.io room' },
  unavailable: () => null,
  version: () => `socket.io ${pkgVersion('socket.io')}, ioredis ${pkgVersion('ioredis')}`,
  start: ({ port, redisPort }) =>
    launch({
      name: 'bare',
      cmd: process.execPath,
      args: [SERVER],
      env: childEnv({ PORT: String(port), REDIS_URL: `redis://127.0.0.1:${redisPort}` }),
      port,
      isReady: handshakeReady(4),
    }),
};
