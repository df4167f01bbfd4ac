import { createServer } from 'node:net';

/**
 * Ports handed out by `freePort`: below 10000, so under both the kernel's ephemeral range (32768
 * and up, where any process's outgoing connection or `listen(0)` may take a port between our check
 * and the spawned server binding it) and the Cluster ports of `redis-topologies` (10000-29999).
 * Each Jest worker draws from its own block, so two workers never race for one port, and a process
 * never hands the same port out twice.
 */
const FIRST = 2000;
const BLOCK = 2000;
const BLOCKS = 4;
const handedOut = new Set<number>();

function block(): number {
  const worker = Number(process.env.JEST_WORKER_ID ?? 1);
  return Number.isInteger(worker) && worker > 0 ? (worker - 1) % BLOCKS : 0;
}

/** A TCP port free on every interface a moment ago, that no other process is about to take. */
export async function freePort(): Promise<number> {
  const base = FIRST + block() * BLOCK;
  for (let attempt = 0; attempt < BLOCK; attempt++) {
    const port = base + Math.floor(Math.random() * BLOCK);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${base}-${base + BLOCK - 1}`);
}

/** Whether `port` can be bound on every interface (IPv6 and IPv4) right now. */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
