import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandError, type CliArgs } from './cli-args.js';
import { configPath, lockPath } from './config-file.js';

/** Longer than the default graceful stop (`shutdown.timeoutMs`), which ends in an exit either way. */
const STOP_WAIT_MS = 30_000;

/**
 * `start`: records this process in the old server's pid file (`{"process": <pid>}` in
 * `<config>.lock`) so that `stop` finds it, refusing to start beside a live one unless `--force`,
 * which stops it first. The file goes when the process exits.
 */
export async function claimPidFile(args: CliArgs): Promise<void> {
  const lock = lockPath(configPath(args));
  const running = readPid(lock);
  if (running !== undefined && alive(running)) {
    if (args.values.force !== true) {
      throw new CommandError(`echo-relay is already running (pid ${running}, ${lock}); use --force to replace it`);
    }
    console.log(`Stopping the running server (pid ${running}) because of --force`);
    await stopProcess(running);
  }
  try {
    writeFileSync(lock, `${JSON.stringify({ process: process.pid }, null, '\t')}\n`);
  } catch (err) {
    // A read-only config directory (/etc under systemd) must not keep the server down: only
    // `stop` needs the file, and a supervisor stops the server without it.
    console.error(
      `Cannot write the pid file ${lock} (${(err as Error).message}): \`echo-relay stop\` will not find this server`,
    );
    return;
  }
  process.on('exit', () => {
    if (readPid(lock) === process.pid) unlinkSync(lock);
  });
}

/** `stop`: SIGTERM to the recorded process, then waits for it to finish its graceful stop. */
export async function stop(args: CliArgs): Promise<void> {
  const lock = lockPath(configPath(args));
  if (!existsSync(lock)) throw new CommandError(`No pid file at ${lock}: no server started with \`echo-relay start\``);
  const pid = readPid(lock);
  if (pid === undefined) throw new CommandError(`${lock} does not name a process`);
  if (!alive(pid)) {
    unlinkSync(lock);
    throw new CommandError(`No server running as pid ${pid}; removed the stale ${lock}`);
  }
  await stopProcess(pid);
  if (existsSync(lock)) unlinkSync(lock);
  console.log(`Stopped echo-relay (pid ${pid})`);
}

async function stopProcess(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_WAIT_MS;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new CommandError(`pid ${pid} still runs ${STOP_WAIT_MS} ms after SIGTERM`);
    await sleep(50);
  }
}

function readPid(lock: string): number | undefined {
  try {
    const pid = (JSON.parse(readFileSync(lock, 'utf8')) as { process?: unknown }).process;
    return Number.isInteger(pid) && (pid as number) > 0 ? (pid as number) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Signal 0 checks existence; EPERM means it exists but belongs to someone else. A file naming this
 * very process is stale: a restarted container or machine handed the same pid out again.
 */
function alive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
