import type { Logger } from '@nestjs/common';

/**
 * Writes at most one line per key and interval, then says how many were held back, so a flood of
 * bad input cannot flood the logs.
 */
export class ThrottledLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  warn(key: string, message: string): void {
    const now = Date.now();
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const held = entry?.suppressed
      ? ` (${entry.suppressed} similar in the last ${this.intervalMs / 1000}s not shown)`
      : '';
    this.last.set(key, { at: now, suppressed: 0 });
    if (this.last.size > 1000) this.last.clear();
    this.logger.warn(message + held);
  }
}
