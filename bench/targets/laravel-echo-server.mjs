// @ts-check
// Target (b): laravel-echo-server 1.6.3 (socket.io 2 / Engine.IO 3 only),
// started by its own CLI (`laravel-echo-server start`) from a temp directory
// holding a generated laravel-echo-server.json.

import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, childEnv, handshakeReady } from './common.mjs';

const ROOT = new URL('../node_modules/laravel-echo-server/', import.meta.url);
const BIN = fileURLToPath(new URL('bin/server.js', ROOT));
/** @param {URL} url */
const readVersion = (url) => JSON.parse(readFileSync(url, 'utf8')).version;

/**
 * The config file the old server reads from its working directory.
 * Same shape as `laravel-echo-server init` writes. The Redis subscriber
 * psubscribes `<keyPrefix>*` (keyPrefix empty here, so `*`); devMode is off so
 * it does not log per message.
 * @param {number} port
 * @param {number} redisPort
 * @param {{authHost?: string, authEndpoint?: string}} [auth] where presence/private auth goes (S4's stub)
 * @returns {object}
 */
export function echoServerConfig(
  port,
  redisPort,
  { authHost = 'http://127.0.0.1', authEndpoint = '/broadcasting/auth' } = {},
) {
  return {
    authHost,
    authEndpoint,
    clients: [],
    database: 'redis',
    databaseConfig: {
      redis: { host: '127.0.0.1', port: redisPort, keyPrefix: '' },
      sqlite: { databasePath: '/dev/null' },
    },
    devMode: false,
    host: '127.0.0.1',
    port,
    protocol: 'http',
    socketio: {},
    sslCertPath: '',
    sslKeyPath: '',
    sslCertChainPath: '',
    sslPassphrase: '',
    subscribers: { http: true, redis: true },
    apiOriginAllow: { allowCors: false, allowOrigin: '', allowMethods: '', allowHeaders: '' },
  };
}

/** @type {import('./index.mjs').Target} */
export default {
  name: 'laravel-echo-server',
  description: 'laravel-echo-server 1.6.3, the server being replaced (Engine.IO 3 clients only)',
  eio: [3],
  unavailable: () => (existsSync(BIN) ? null : 'laravel-echo-server not installed: run `cd bench && npm install`'),
  version: () =>
    `laravel-echo-server ${readVersion(new URL('package.json', ROOT))}, socket.io ${readVersion(
      new URL('node_modules/socket.io/package.json', ROOT),
    )}`,
  start: ({ port, redisPort, dir, authHost, authEndpoint }) => {
    writeFileSync(
      join(dir, 'laravel-echo-server.json'),
      JSON.stringify(echoServerConfig(port, redisPort, { authHost, authEndpoint }), null, 2),
    );
    return launch({
      name: 'laravel-echo-server',
      cmd: process.execPath,
      args: [BIN, 'start'],
      cwd: dir,
      env: childEnv({}),
      port,
      isReady: handshakeReady(3),
    });
  },
};
