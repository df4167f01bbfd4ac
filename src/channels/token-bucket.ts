/**
 * `ratePerSecond` tokens a second, at most `burst` saved up (by default `ratePerSecond`): a burst
 * of that many, then the steady rate. Pusher's limit for client events is 10 a second per
 * connection. A few arithmetic operations per `take`, no timer: cheap enough for every message.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    now = Date.now(),
    private readonly burst = ratePerSecond,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** Spends one token if there is one. */
  take(now = Date.now()): boolean {
    const elapsed = now - this.updatedAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
      this.updatedAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
