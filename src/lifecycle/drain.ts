/** Something that can be told to go away: a socket.io connection. */
export interface Closable {
  close(): void;
}

/** One batch of `closeInBatches`: connections `[from, to)`, closed `at` ms after the start. */
export interface Batch {
  from: number;
  to: number;
  at: number;
}

/**
 * When each batch closes: `count` connections in up to `batches` batches, batch i at a random
 * moment of the i-th of as many equal slots of `spreadMs` (all at 0 without a window).
 */
export function batchSchedule(count: number, spreadMs: number, batches = 10, random = Math.random): Batch[] {
  if (count === 0) return [];
  const size = Math.ceil(count / Math.max(1, Math.min(batches, count)));
  // 11 connections in batches of 2 make 6 batches, not 10: the 6 share the whole window.
  const slot = spreadMs / Math.ceil(count / size);
  const schedule: Batch[] = [];
  for (let i = 0; i * size < count; i++) {
    schedule.push({
      from: i * size,
      to: Math.min(count, (i + 1) * size),
      at: spreadMs > 0 ? (i + random()) * slot : 0,
    });
  }
  return schedule;
}

/**
 * Closes connections in batches spread over `spreadMs`, each batch at a jittered moment, so that
 * clients reconnecting to the other nodes do not arrive all at once. Closing the transport (not a
 * socket.io `disconnect`, which clients treat as final) makes Laravel Echo reconnect by itself.
 */
export async function closeInBatches(connections: Closable[], spreadMs: number, batches = 10): Promise<void> {
  await Promise.all(
    batchSchedule(connections.length, spreadMs, batches).map(
      ({ from, to, at }) =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            connections.slice(from, to).forEach((c) => c.close());
            resolve();
          }, at),
        ),
    ),
  );
}
