import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitUntil } from './ports.js';

/** dist/main.js, from .test-build/test/support/. */
const MAIN = fileURLToPath(new URL('../../../dist/main.js', import.meta.url));

/** echo-relay as operators run it, in a child process that a test can SIGKILL. */
export interface RelayProcess {
  url: string;
  child: ChildProcess;
  /** What the process wrote, for a failing test's message. */
  output(): string;
  /** SIGKILL: no shutdown hook runs, nothing is cleaned up. */
  kill(): Promise<void>;
}

/** Starts `node dist/main.js` (built by `npm run build`) with only the env given here, and waits for /ready. */
export async function startRelayProcess(env: Record<string, string>): Promise<RelayProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first`);
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    cwd: mkdtempSync(join(tmpdir(), 'echo-relay-process-')),
    env: { PATH: process.env.PATH ?? '', PORT: String(port), ECHO_RELAY_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitUntil(async () => (await fetch(`${url}/ready`)).status === 200, 10_000, `relay process on ${port}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${output}`, { cause: err });
  }
  return {
    url,
    child,
    output: () => output,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
