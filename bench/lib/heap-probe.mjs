// @ts-check
// Loaded into a server (`node --expose-gc --import=<this file> server.mjs`) by
// bench/heap-per-connection.mjs: on SIGUSR2 it collects twice (the second takes what the first
// only unlinked, such as objects held by finalizers) and writes `{heapUsed}` to HEAP_PROBE_FILE.

import { writeFileSync } from 'node:fs';

const file = process.env.HEAP_PROBE_FILE;
const gc = /** @type {(() => void) | undefined} */ (globalThis.gc);

if (file && gc) {
  process.on('SIGUSR2', () => {
    gc();
    gc();
    writeFileSync(file, JSON.stringify({ heapUsed: process.memoryUsage().heapUsed }));
  });
}
