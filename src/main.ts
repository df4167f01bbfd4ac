// Static imports are evaluated before this module's body: only the heap setting is imported
// statically, so it is in force while everything else loads (see ./server/boot-heap.ts).
import { holdYoungGeneration } from './server/boot-heap.js';

holdYoungGeneration();
const { runCli } = await import('./cli/cli.js');

runCli(process.argv.slice(2)).catch((err: unknown) => {
  console.error('echo-relay failed:', err);
  process.exit(1);
});
