import { createHash } from 'node:crypto';

/** How long a message is remembered: a copy arriving later on another subscription is delivered again. */
export const MERGE_WINDOW_MS = 10_000;
/** Messages remembered at most; past it the oldest are forgotten early (and counted). */
const MAX_REMEMBERED = 100_000;

interface Seen {
  /** How many times this exact message was delivered: the most any one subscription carried it. */
  delivered: number;
  /** Copies received, as `[stream, count, stream, count, ...]` (a node has a handful of subscriptions). */
  copies: number[];
}

/**
 * Merges the copies of one message stream arriving on several subscriptions (a master and its
 * replicas, or several Cluster nodes: Redis hands every PUBLISH to the subscribers of each) into
 * one stream, each message once.
 *
 * A message is identified by its channel and bytes. Laravel may publish the same bytes twice on
 * purpose, so copies are counted per subscription: the n-th copy on any one subscription is
 * delivered when no subscription has carried n copies before. Delivery is on the first arrival,
 * so each subscription's order is kept, and a subscription that missed messages (its node died,
 * its connection dropped) costs nothing while another carried them.
 *
 * Limits: a copy arriving more than `MERGE_WINDOW_MS` after the first (a replica lagging that far,
 * or replaying its backlog after a partial resync) is delivered again.
 */
export class MessageMerger {
  private readonly seen = new Map<string, Seen>();
  /** Keys in order of first arrival, and when, for expiry. */
  private readonly keys: string[] = [];
  private readonly times: number[] = [];
  private head = 0;
  /** Messages forgotten before the window ended because `MAX_REMEMBERED` was reached. */
  forgottenEarly = 0;

  constructor(
    private readonly windowMs = MERGE_WINDOW_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** True if this copy, received on subscription `source`, is to be delivered. */
  accept(source: number, channel: string, message: Buffer): boolean {
    const now = this.now();
    this.expire(now);
    const key = createHash('sha1').update(channel).update('\n').update(message).digest('base64');
    let seen = this.seen.get(key);
    if (seen === undefined) {
      seen = { delivered: 0, copies: [] };
      this.seen.set(key, seen);
      this.keys.push(key);
      this.times.push(now);
    }
    const copies = countCopy(seen.copies, source);
    if (copies <= seen.delivered) return false;
    seen.delivered = copies;
    return true;
  }

  /** Messages remembered now. */
  get size(): number {
    return this.seen.size;
  }

  private expire(now: number): void {
    const { keys, times } = this;
    while (this.head < keys.length) {
      const full = keys.length - this.head > MAX_REMEMBERED;
      if (!full && now - times[this.head] < this.windowMs) break;
      if (full) this.forgottenEarly++;
      this.seen.delete(keys[this.head]);
      this.head++;
    }
    // Drop the consumed front now and then rather than shifting on every message.
    if (this.head > 1024 && this.head * 2 > keys.length) {
      keys.splice(0, this.head);
      times.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** Adds one copy from `stream` to `[stream, count, ...]`; returns that stream's count. */
function countCopy(copies: number[], stream: number): number {
  for (let i = 0; i < copies.length; i += 2) if (copies[i] === stream) return ++copies[i + 1];
  copies.push(stream, 1);
  return 1;
}
