/**
 * `ratePerSecond` tokens a second, at most `ratePerSecond` saved up: a burst of that many, then
 * the steady rate. Pusher's limit for client events is 10 a second per connection.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    now = Date.now(),
  ) {
    this.tokens = ratePerSecond;
    this.updatedAt = now;
  }

  /** Spends one token if there is one. */
  take(now = Date.now()): boolean {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.ratePerSecond, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
