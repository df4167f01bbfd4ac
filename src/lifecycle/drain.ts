/** Something that can be told to go away: a socket.io connection. */
export interface Closable {
  close(): void;
}

/**
 * Closes connections in batches spread over `spreadMs`, each batch at a jittered moment, so that
 * clients reconnecting to the other nodes do not arrive all at once. Closing the transport (not a
 * socket.io `disconnect`, which clients treat as final) makes Laravel Echo reconnect by itself.
 */
export async function closeInBatches(connections: Closable[], spreadMs: number, batches = 10): Promise<void> {
  if (connections.length === 0) return;
  const count = Math.max(1, Math.min(batches, connections.length));
  const size = Math.ceil(connections.length / count);
  const slot = spreadMs / count;
  const waits: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const batch = connections.slice(i * size, (i + 1) * size);
    const at = spreadMs > 0 ? i * slot + Math.random() * slot : 0;
    waits.push(
      new Promise((resolve) =>
        setTimeout(() => {
          batch.forEach((c) => c.close());
          resolve();
        }, at),
      ),
    );
  }
  await Promise.all(waits);
}
