/**
 * At most `max` tasks running at once; the others wait in the order they asked. `waiting` is told
 * of every change of the queue (+1, -1) so a gauge can follow it.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly queue: (() => void)[] = [];

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

  /** Runs `task` once a slot is free, and frees the slot when it settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.max) {
      this.running++;
      return Promise.resolve();
    }
    this.waiting(1);
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (!next) {
      this.running--;
      return;
    }
    // The slot passes straight to the oldest waiter: `running` stays the same.
    this.waiting(-1);
    next();
  }
}
