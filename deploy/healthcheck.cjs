// Container health check: exits 0 when GET <path> (default /health) answers 2xx.
// It asks the port the server itself picks: the HTTP API's (apiPort) when one is set, since /health
// and /ready are answered there too and a probe there does not wait in the listen queue behind
// clients (a restarted node taking thousands of reconnects); else the main one. Each is read from
// the environment first (ECHO_RELAY_API_PORT, PORT), else from the config file the server reads in
// the working directory (mount it at /app/laravel-echo-server.json: `apiPort`, `port`), else 6001.
// CommonJS, so it runs with plain `node` in the slim image, which has no curl.
'use strict';
/* global fetch, AbortSignal -- Node's own, since Node 18 */
const { readFileSync } = require('node:fs');

function readFile() {
  try {
    const parsed = JSON.parse(readFileSync('laravel-echo-server.json', 'utf8'));
    return parsed !== null && typeof parsed === 'object' ? parsed : {};
  } catch {
    return {}; // no file, or one the server itself will refuse with a config error
  }
}

/** Addresses that mean "every interface": the probe reaches them on loopback. */
const WILDCARD = new Set(['', '0.0.0.0', '::']);

const file = readFile();
// apiPort 0 picks a free port at start, which the probe cannot know: the main port then.
const apiPort = Number(process.env.ECHO_RELAY_API_PORT || file.apiPort || 0);
const api = Number.isInteger(apiPort) && apiPort > 0;
const apiHost = String(process.env.ECHO_RELAY_API_HOST || file.apiHost || '');
const host = api && !WILDCARD.has(apiHost) ? apiHost : '127.0.0.1';
const port = api ? apiPort : process.env.PORT || file.port || 6001;
const path = process.argv[2] || '/health';
fetch(`http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`, { signal: AbortSignal.timeout(2500) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
