import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { BroadcastDto } from '../broadcast/broadcast.dto.js';
import { BroadcastDelivery } from '../gateway/broadcast-delivery.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { closeRedisClient, connectRedis } from '../redis/redis-client.js';
import type { RedisClient } from '../redis/redis-options.js';
import { RedisConfig } from '../redis/redis.config.js';
import { compareOffsets, isOffset, START, type Offset } from './offsets.js';
import { RELEASED, RecoveryLog, type HistoryEntry } from './recovery-log.js';
import { RecoveryConfig } from './recovery.config.js';
import { Sequencer } from './sequencer.js';

/**
 * Entries kept in memory for restores that race the notifications (see `since`): a restore needs
 * what was delivered during one Redis round trip; beyond it, it reads the history again.
 */
const RECENT = 256;
/** History entries read per call while catching up. */
const PAGE = 1000;

/**
 * Delivers every broadcast of the history to this node's sockets, in history order and with its
 * offset, from the notifications the append script publishes. It knows how far this node has
 * delivered (`position`): a socket that joins a room now has seen everything up to it, and a
 * restored socket is owed what lies between its offset and it.
 *
 * When its subscription comes back after Redis was away, it reads the history from its position
 * before taking notifications again, so what was appended meanwhile is delivered late, not lost.
 */
@Injectable()
export class RecoveryFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Recovery');
  private readonly throttled = new ThrottledLog(this.log);
  private client?: RedisClient;
  private watermark?: Offset;
  private live = false;
  /** Restores waiting for this node to reach a state (`started`, `reach`), woken by `wake`. */
  private readonly waiters: { until: () => boolean; resolve: (reached: boolean) => void; timer: NodeJS.Timeout }[] = [];
  private closing = false;
  /** Notifications that arrived while the history was being read. */
  private buffered?: string[];
  private readonly recent = new Array<[Offset, HistoryEntry] | undefined>(RECENT);
  private recentNext = 0;
  private recentCount = 0;

  constructor(
    private readonly config: RecoveryConfig,
    private readonly redisConfig: RedisConfig,
    private readonly recovery: RecoveryLog,
    private readonly sequencer: Sequencer,
    private readonly delivery: BroadcastDelivery,
    private readonly metrics: RelayMetrics,
  ) {
    // A rescue skips what was appended after what this node has read.
    sequencer.readPositionFrom(() => this.watermark);
  }

  /** The offset of the last broadcast this node delivered; `undefined` before the feed first ran. */
  get position(): Offset | undefined {
    return this.watermark;
  }

  /** True while notifications reach this node (readiness). */
  get subscribed(): boolean {
    return this.live;
  }

  onApplicationBootstrap(): void {
    if (!this.config.enabled) return;
    const client = connectRedis(this.redisConfig, 'recovery-sub', this.log, {
      maxRetriesPerRequest: null,
      autoResubscribe: false,
      lazyConnect: true,
    });
    this.client = client;
    client.on('ready', () => void this.subscribe(client));
    client.on('close', () => this.setLive(false));
    client.on('message', (_channel: string, message: string) => this.onNotification(message));
    client.connect().catch((err: Error) => this.log.warn(`Redis not reachable yet (${err.message}); retrying`));
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.setLive(false);
    if (this.client) await closeRedisClient(this.client);
  }

  /**
   * Entries after `offset` (exclusive) up to this node's position, oldest first, or `undefined`
   * when they are no longer all in memory.
   */
  since(offset: Offset): [Offset, HistoryEntry][] | undefined {
    const out: [Offset, HistoryEntry][] = [];
    for (let i = 1; i <= this.recentCount; i++) {
      const item = this.recent[(this.recentNext - i + RECENT) % RECENT]!;
      if (compareOffsets(item[0], offset) <= 0) return out.reverse();
      out.push(item);
    }
    // Not found in memory: complete only if memory reaches back to where this node started.
    const complete =
      this.recentCount < RECENT && this.firstKnown !== undefined && compareOffsets(offset, this.firstKnown) >= 0;
    return complete ? out.reverse() : undefined;
  }

  /**
   * Resolves true once this node knows where the history stands (its first read after starting, so
   * `position` is set and notifications are taken), false after `timeoutMs`.
   */
  started(timeoutMs: number): Promise<boolean> {
    return this.waitUntil(() => this.watermark !== undefined && this.live, timeoutMs);
  }

  /** Resolves true once this node delivered as far as `offset`, false after `timeoutMs`. */
  reach(offset: Offset, timeoutMs: number): Promise<boolean> {
    return this.waitUntil(() => this.watermark !== undefined && compareOffsets(this.watermark, offset) >= 0, timeoutMs);
  }

  private waitUntil(until: () => boolean, timeoutMs: number): Promise<boolean> {
    if (until()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        until,
        resolve,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          resolve(false);
        }, timeoutMs),
      };
      // A handshake waiting here does not keep a stopping process alive.
      waiter.timer.unref();
      this.waiters.push(waiter);
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.filter((w) => w.until())) {
      clearTimeout(waiter.timer);
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      // After the batch is processed: the restore continues from a complete position.
      queueMicrotask(() => waiter.resolve(true));
    }
  }

  /** The position when the feed first ran: everything this node delivered is after it. */
  private firstKnown?: Offset;

  private async subscribe(client: RedisClient): Promise<void> {
    this.buffered = [];
    try {
      await client.subscribe(this.recovery.keys.notify);
      if (this.watermark === undefined) {
        await this.start();
      } else {
        await this.catchUp();
      }
      this.releaseHeld();
      this.setLive(true);
      if (this.waiters.length > 0) this.wake();
    } catch (err) {
      this.buffered = undefined;
      this.log.error(`Could not subscribe to recovery notifications: ${(err as Error).message}; retrying`);
      client.disconnect(true);
    }
  }

  /**
   * First run: this node delivers from the newest entry on. The recent entries are shown to the
   * sequencer, which may hold their raw messages from before this subscription.
   */
  private async start(): Promise<void> {
    const recent = await this.recovery.newest(PAGE);
    const head = recent[0]?.[0] ?? START;
    for (const [, entry] of recent) if (entry.k !== undefined) this.sequencer.sequenced(entry.k, false);
    this.watermark = head;
    this.firstKnown = head;
  }

  /** After an outage: delivers what was appended while notifications did not reach us. */
  private async catchUp(): Promise<void> {
    let caught = 0;
    for (;;) {
      const page = await this.recovery.after(this.watermark!, PAGE);
      this.process(page, true);
      caught += page.length;
      if (page.length < PAGE) break;
    }
    if (caught > 0)
      this.log.warn(`Delivered ${caught} broadcast(s) appended while this node's notifications were down`);
  }

  /** `replayed`: held back while the history was read, so possibly delivered from it already. */
  private onNotification(message: string, replayed = false): void {
    if (message === RELEASED) {
      this.sequencer.released();
      return;
    }
    if (this.buffered) {
      this.buffered.push(message);
      return;
    }
    let batch: [Offset, HistoryEntry, Offset?][];
    try {
      batch = JSON.parse(message) as [Offset, HistoryEntry, Offset?][];
      if (!Array.isArray(batch)) throw new Error('not a list');
    } catch (err) {
      this.throttled.warn('undecodable', `Ignored an undecodable recovery notification: ${(err as Error).message}`);
      return;
    }
    if (!replayed && this.missedBefore(batch[0]?.[2])) {
      this.readMissed(message);
      return;
    }
    this.process(batch, replayed);
  }

  /**
   * Whether the history held entries beyond this node's position before the call that sent this
   * notification: a notification before it never arrived. On a Cluster, a master that dies after
   * writing a notification to its own subscribers and before passing it on over the Cluster bus
   * leaves the nodes subscribed elsewhere without it, while the entries reached its replica.
   */
  private missedBefore(prev: unknown): boolean {
    return (
      typeof prev === 'string' &&
      isOffset(prev) &&
      this.watermark !== undefined &&
      compareOffsets(prev, this.watermark) > 0
    );
  }

  /** Reads what a lost notification carried from the history, then delivers this one and those held meanwhile. */
  private readMissed(message: string): void {
    this.buffered = [message];
    this.throttled.warn(
      'gap',
      `A recovery notification did not reach this node; reading the history from ${this.watermark}`,
    );
    void this.catchUp()
      .catch((err: Error) =>
        this.throttled.warn('gap', `Could not read the history after a lost notification: ${err.message}`),
      )
      .finally(() => this.releaseHeld());
  }

  /** Delivers the notifications held while the history was read (they may repeat what it held). */
  private releaseHeld(): void {
    const held = this.buffered ?? [];
    this.buffered = undefined;
    for (const message of held) this.onNotification(message, true);
  }

  /**
   * Delivers entries in order. One at or before the position was delivered already when it was
   * read from the history (`replayed`) or is still in memory; otherwise the history went back: a
   * failover lost the entries the old master had not replicated, and a new master whose clock is
   * behind the old one's gives its new entries smaller offsets. Those are delivered, and the
   * position follows them, rather than being skipped until the clock catches up.
   */
  private process(batch: readonly unknown[], replayed: boolean): void {
    for (const item of batch) {
      if (!isWellFormed(item)) {
        this.throttled.warn('undecodable', 'Ignored a malformed entry in a recovery notification');
        continue;
      }
      const [offset, entry] = item;
      if (this.watermark !== undefined && compareOffsets(offset, this.watermark) <= 0) {
        if (replayed || this.delivered(offset, entry)) continue;
        this.throttled.warn(
          'behind',
          `The history went back to ${offset}, before this node's position ${this.watermark} (a failover lost its last entries); delivering from there`,
        );
      }
      this.watermark = offset;
      if (this.waiters.length > 0) this.wake();
      this.recent[this.recentNext] = item;
      this.recentNext = (this.recentNext + 1) % RECENT;
      if (this.recentCount < RECENT) this.recentCount++;
      // Laravel's broadcasts were received here too: the histogram spans the ordering hop.
      // HTTP publishes carry the node that took them and when.
      const receivedAt =
        entry.k !== undefined
          ? this.sequencer.sequenced(entry.k)
          : entry.o === this.recovery.node
            ? entry.t
            : undefined;
      try {
        this.delivery.deliverLocal(
          { channel: entry.c, event: entry.e, data: entry.d as BroadcastDto['data'], socket: entry.s },
          receivedAt,
          offset,
        );
      } catch (err) {
        this.metrics.messagesDropped.inc({ reason: 'handler_error' });
        this.throttled.warn('deliver', `Delivering ${entry.e} on "${entry.c}" failed: ${(err as Error).message}`);
      }
    }
  }

  /** Whether this very entry is among the last ones delivered (its notification came late). */
  private delivered(offset: Offset, entry: HistoryEntry): boolean {
    const json = JSON.stringify(entry);
    for (let i = 1; i <= this.recentCount; i++) {
      const [known, seen] = this.recent[(this.recentNext - i + RECENT) % RECENT]!;
      if (known === offset) return JSON.stringify(seen) === json;
    }
    return false;
  }

  private setLive(live: boolean): void {
    if (this.live === live) return;
    this.live = live;
    this.sequencer.setFeedLive(live);
    if (live) this.log.log('Receiving recovery notifications');
    else if (!this.closing) this.log.warn('Recovery notifications lost; resubscribing');
  }
}

/** An `[offset, entry]` pair as the append script publishes them (the channel is open to any Redis client). */
function isWellFormed(item: unknown): item is [Offset, HistoryEntry] {
  if (!Array.isArray(item) || !isOffset(item[0])) return false;
  const entry = item[1] as Partial<HistoryEntry> | null;
  return typeof entry === 'object' && entry !== null && typeof entry.c === 'string' && typeof entry.e === 'string';
}
