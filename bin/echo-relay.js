#!/usr/bin/env node
// The bundled command line (npm run build): it loads the bundled server, dist/echo-relay-server.mjs,
// only for `start`, so that `--help` and the other commands answer at once.
import '../dist/echo-relay.mjs';
