/**
 * At most `max` tasks running at once; the others wait in the order they asked. `waiting` is told
 * of every change of the queue (+1, -1) so a gauge can follow it.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly max: number,
    private readonly waiting: (delta: number) => void = () => undefined,
  ) {
    if (!(max >= 1)) throw new RangeError(`concurrency limit must be at least 1, got ${max}`);
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot now. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Runs `task` once a slot is free, and frees the slot when it settles. Aborting `signal` while
   * the task waits takes it out of the queue (it never runs) and rejects with the signal's reason:
   * whoever asked is gone, and the queue keeps nothing of theirs.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.running < this.max) {
      this.running++;
      return Promise.resolve();
    }
    this.waiting(1);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { start: resolve };
      this.queue.push(waiter);
      if (!signal) return;
      const abandon = (): void => {
        const index = this.queue.indexOf(waiter);
        if (index < 0) return;
        this.queue.splice(index, 1);
        this.waiting(-1);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', abandon, { once: true });
      waiter.start = () => {
        signal.removeEventListener('abort', abandon);
        resolve();
      };
    });
  }

  private release(): void {
    const next = this.queue.shift();
    if (!next) {
      this.running--;
      return;
    }
    // The slot passes straight to the oldest waiter: `running` stays the same.
    this.waiting(-1);
    next.start();
  }
}

interface Waiter {
  start(): void;
}
