import 'reflect-metadata';
import { run } from './cli.js';

run(process.argv.slice(2)).catch((err: unknown) => {
  console.error('echo-relay failed to start:', err);
  process.exit(1);
});
