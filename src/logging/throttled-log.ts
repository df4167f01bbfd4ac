import type { Logger } from '@nestjs/common';

interface Window {
  at: number;
  suppressed: number;
  /** The last message held back, for the summary. */
  last?: string;
  timer?: NodeJS.Timeout;
}

/**
 * Writes at most one line per key and interval, then says how many were held back, so a flood of
 * bad input cannot flood the logs. The count is written when the interval ends, whether or not
 * another message of the key follows: a burst that stops is still accounted for in the log.
 */
export class ThrottledLog {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  warn(key: string, message: string): void {
    const now = Date.now();
    const open = this.windows.get(key);
    if (open && now - open.at < this.intervalMs) {
      open.suppressed++;
      open.last = message;
      // One timer per key with something held back, not per message; it keeps no process alive.
      open.timer ??= setTimeout(() => this.close(key, open), open.at + this.intervalMs - now).unref();
      return;
    }
    if (open) this.close(key, open);
    if (this.windows.size >= 1000) this.clear();
    this.windows.set(key, { at: now, suppressed: 0 });
    this.logger.warn(message);
  }

  /** Ends a key's interval, saying how many of its messages were not shown and the last of them. */
  private close(key: string, window: Window): void {
    clearTimeout(window.timer);
    if (this.windows.get(key) === window) this.windows.delete(key);
    if (window.suppressed === 0) return;
    const seconds = this.intervalMs / 1000;
    this.logger.warn(`${window.suppressed} similar in the last ${seconds}s not shown; the last: ${window.last}`);
  }

  private clear(): void {
    for (const [key, window] of this.windows) this.close(key, window);
  }
}
