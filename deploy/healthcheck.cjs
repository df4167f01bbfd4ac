// Container health check: exits 0 when GET <path> (default /health) answers 2xx.
// The port is the one the server itself picks: PORT, else the `port` of the config file it reads
// from the working directory (mount it at /app/laravel-echo-server.json), else 6001. CommonJS, so it
// runs with plain `node` in the slim image, which has no curl.
'use strict';
/* global fetch, AbortSignal -- Node's own, since Node 18 */
const { readFileSync } = require('node:fs');

function filePort() {
  try {
    return JSON.parse(readFileSync('laravel-echo-server.json', 'utf8')).port;
  } catch {
    return undefined; // no file, or one the server itself will refuse with a config error
  }
}

const port = process.env.PORT || filePort() || 6001;
const path = process.argv[2] || '/health';
fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2500) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
