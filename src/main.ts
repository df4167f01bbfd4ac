// Static imports are evaluated before this module's body: only the heap setting is imported
// statically, so it is in force while everything else loads (see ./server/boot-heap.ts).
import { holdYoungGeneration } from './server/boot-heap.js';

holdYoungGeneration();
await import('reflect-metadata');
const { run } = await import('./cli.js');

run(process.argv.slice(2)).catch((err: unknown) => {
  console.error('echo-relay failed to start:', err);
  process.exit(1);
});
