import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { httpStatus } from './http.js';
import { sleep } from './ports.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Starting `node dist/echo-relay.mjs` (Nest and every module, bundled) takes under a second on an idle
 * machine and well over ten on a loaded one; a child that fails exits early and is reported at once.
 */
const START_TIMEOUT_MS = 60_000;

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** echo-relay as operators run it: the bundled `dist/echo-relay.mjs` (or the bin) in its own process. */
export interface RelayProcess {
  child: ChildProcess;
  /** Where it listens, known once it logged `serving on` (see `waitListening`). */
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<ProcessExit>;
}

/**
 * Spawns the relay on port 0 (unless `env.PORT` or a config file says otherwise): the kernel picks
 * the port as the child binds, so no other test can take it in between; the child's own
 * `serving on <url>` line says which one it got.
 */
export function spawnRelay(
  options: { args?: string[]; env?: Record<string, string>; cwd?: string; bin?: boolean } = {},
): RelayProcess {
  const entry = options.bin ? 'bin/echo-relay.js' : 'dist/echo-relay.mjs';
  const child = spawn(process.execPath, [ROOT + entry, ...(options.args ?? [])], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH, PORT: '0', ECHO_RELAY_HOST: '127.0.0.1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<ProcessExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const relay: RelayProcess = { child, url: '', stdout: () => out, stderr: () => err, exited };
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    relay.url ||= /serving on (https?:\/\/[^\s"]+)/.exec(out)?.[1] ?? '';
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return relay;
}

/** Resolves once the process logged where it listens; fails at once, with its output, if it exits first. */
export async function waitListening(relay: RelayProcess, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  await followProcess(relay, timeoutMs, 'to listen', () => Promise.resolve(relay.url !== ''));
}

/** Waits until it listens and `/ready` answers 200 (its Redis subscription is live). */
export async function waitReady(relay: RelayProcess, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  await waitListening(relay, timeoutMs);
  await followProcess(relay, 10_000, 'to be ready', async () => (await httpStatus(`${relay.url}/ready`)) === 200);
}

/** Kills the process if a test left it running. */
export async function killRelay(relay: RelayProcess): Promise<void> {
  if (relay.child.exitCode === null && relay.child.signalCode === null) {
    relay.child.kill('SIGKILL');
    await relay.exited;
  }
}

/**
 * The CPU time (user and system, in ms, counted in the kernel's 10 ms ticks) the process has used:
 * all its threads, or its main thread alone, the one its event loop runs on. Linux only (`/proc`).
 */
export function cpuMs(relay: RelayProcess, threads: 'all' | 'main' = 'all'): number {
  const pid = relay.child.pid;
  const stat = readFileSync(threads === 'all' ? `/proc/${pid}/stat` : `/proc/${pid}/task/${pid}/stat`, 'utf8');
  // The fields after the command's name (in parentheses, which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Polls `check` while the child runs; an exit or the deadline fails with what the child printed. */
async function followProcess(
  relay: RelayProcess,
  timeoutMs: number,
  what: string,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: ProcessExit | undefined;
  void relay.exited.then((e) => (exit = e));
  for (;;) {
    if (exit) throw new Error(`relay process exited (${exit.code ?? exit.signal}) before ${what}\n${output(relay)}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`relay process not ${what} after ${timeoutMs} ms\n${output(relay)}`);
    await sleep(50);
  }
}

function output(relay: RelayProcess): string {
  const tail = (text: string): string => text.split('\n').slice(-20).join('\n');
  return `--- stdout\n${tail(relay.stdout())}\n--- stderr\n${tail(relay.stderr())}`;
}
