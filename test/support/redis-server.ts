import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, waitUntil } from './ports.js';

/** A redis-server of the test's own, on a free port; or the one named by REDIS_URL. */
export interface TestRedis {
  url: string;
  host: string;
  port: number;
  /** Stops the server (SIGKILL when `hard`), keeping the port for `start`. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /**
   * Freezes the server (SIGSTOP): connections stay open and nothing answers, as behind a network
   * partition or a stalled host; `resume()` (SIGCONT) lets it go on.
   */
  pause(): void;
  resume(): void;
  /** Stops it for good. */
  close(): Promise<void>;
}

const BINARY = process.env.REDIS_SERVER_BIN ?? 'redis-server';

export function haveRedisServer(): boolean {
  return spawnSync(BINARY, ['--version']).status === 0;
}

/**
 * Starts a private redis-server (no persistence) when one is on PATH. Otherwise uses REDIS_URL:
 * then tests that stop or restart Redis must skip.
 */
export async function startRedis(): Promise<TestRedis> {
  if (!haveRedisServer()) {
    const url = process.env.REDIS_URL;
    if (!url) throw new Error('No redis-server on PATH and no REDIS_URL set');
    const { hostname, port } = new URL(url);
    const refuse = (): Promise<void> => Promise.reject(new Error('cannot control an external Redis'));
    const cannot = (): never => {
      throw new Error('cannot control an external Redis');
    };
    return {
      url,
      host: hostname,
      port: Number(port || 6379),
      stop: refuse,
      start: refuse,
      pause: cannot,
      resume: cannot,
      close: async () => {},
    };
  }
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const proc = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-2000);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    // A server that could not start says why: fail with that at once instead of polling its port.
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code, signal) =>
        reject(new Error(`redis-server on ${port} exited (${code ?? signal}): ${output.trim()}`)),
      ),
    );
    exited.catch(() => undefined);
    await Promise.race([waitUntil(() => ping(port), 5000, `redis-server on ${port}`), exited]);
  };
  const stop = async (hard = false): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    // A paused server takes SIGKILL at once, but would act on a SIGTERM only once resumed.
    proc.kill(hard ? 'SIGKILL' : 'SIGTERM');
    proc.kill('SIGCONT');
    await exited;
  };
  const signal = (name: NodeJS.Signals) => (): void => void child?.kill(name);
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    stop,
    start,
    pause: signal('SIGSTOP'),
    resume: signal('SIGCONT'),
    close: () => stop(true),
  };
}

async function ping(port: number): Promise<boolean> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } finally {
    // A refused connection has already ended; disconnecting it again arms ioredis's 2 s
    // stream-close timer, which would hold the Jest worker open after the last test.
    if (client.status !== 'end') client.disconnect();
  }
}
