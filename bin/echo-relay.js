#!/usr/bin/env node
// The bundled server (npm run build): one file, which starts in about half the time of dist/main.js.
import '../dist/echo-relay.mjs';
