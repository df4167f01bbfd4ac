import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, waitUntil } from './ports.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** echo-relay as operators run it: the built `dist/main.js` (or the bin) in its own process. */
export interface RelayProcess {
  child: ChildProcess;
  port: number;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function spawnRelay(
  options: { args?: string[]; env?: Record<string, string>; cwd?: string; bin?: boolean } = {},
): Promise<RelayProcess> {
  const port = await freePort();
  const entry = options.bin ? 'bin/echo-relay.js' : 'dist/main.js';
  const child = spawn(process.execPath, [ROOT + entry, ...(options.args ?? [])], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH, PORT: String(port), ECHO_RELAY_HOST: '127.0.0.1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, port, url: `http://127.0.0.1:${port}`, stdout: () => out, stderr: () => err, exited };
}

/** Waits for `/ready` to answer 200. */
export async function waitReady(relay: RelayProcess, timeoutMs = 10_000): Promise<void> {
  await waitUntil(async () => (await fetch(`${relay.url}/ready`)).status === 200, timeoutMs, 'relay process readiness');
}

/** Kills the process if a test left it running. */
export async function killRelay(relay: RelayProcess): Promise<void> {
  if (relay.child.exitCode === null && relay.child.signalCode === null) {
    relay.child.kill('SIGKILL');
    await relay.exited;
  }
}
