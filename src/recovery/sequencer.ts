import { hash, randomUUID } from 'node:crypto';
import {
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { BroadcastConfig } from '../broadcast/broadcast.config.js';
import { withTimeout } from '../common/with-timeout.js';
import { LaravelRedisServer } from '../internals/laravel-redis.server.js';
import type { BroadcastDto } from '../broadcast/broadcast.dto.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { QUIET_OUTAGE_MS } from '../redis/redis-client.js';
import { pendingEntry, RecoveryLog, type PendingEntry } from './recovery-log.js';
import { RecoveryConfig } from './recovery.config.js';

/** A Laravel broadcast this node received and has not yet seen come back sequenced. */
interface Held {
  key: string;
  entry: PendingEntry;
  since: number;
  /** `performance.now()` when its Redis read arrived, for the ingest-to-emit histogram. */
  receivedAt?: number;
  /** Handed to an append that has not failed (ours as sequencer, or a rescue). */
  appended: boolean;
}

/** Held entries past which the oldest are given up (a sequencer that never answers, Redis away for long). */
const MAX_HELD = 100_000;
/**
 * Keys seen sequenced before their raw message arrived are forgotten after this long: long enough
 * for the copy still on its way, short enough not to swallow a later identical broadcast.
 */
const EARLY_TTL_MS = 1_000;
/** How often a follower looks for broadcasts the sequencer skipped. */
const RESCUE_CHECK_MS = 250;
/** How long a graceful stop waits to append what is held and hand the lease over. */
const RELEASE_TIMEOUT_MS = 2000;

/**
 * Puts Laravel's broadcasts in one order for the whole cluster. Every node receives each of them
 * from Redis pub/sub; exactly one, the sequencer (holder of a lease in Redis), appends them to the
 * history, and every node delivers them from the history's notification (`RecoveryFeed`), offset
 * included, so all agree on the offsets.
 *
 * Every node holds each broadcast it received until it sees it come back sequenced (matched by a
 * hash of its Redis channel and raw text; identical broadcasts are interchangeable, so matching
 * them in any order delivers each one once). The node that takes the lease over appends what it
 * still holds, in the order received: a sequencer that dies costs a delay of at most
 * `recovery.leaseMs`, not a broadcast.
 *
 * A broadcast can reach some nodes and not the sequencer: its subscription was down, or a Redis
 * node died while it was writing the broadcast to its subscribers (it answers the publisher
 * first). A follower sees that when the oldest broadcast it holds stays the oldest, unappended,
 * for `rescueAfterMs` (half a lease, at least a second) while its notifications arrive: the
 * sequencer appended everything before it and not it. The follower then appends it itself
 * (`RecoveryLog.rescue`), unless the history already has it beyond what the follower has read,
 * and marks it so that the sequencer skips its own copy if that was only late. Appended before
 * whatever the app publishes next, it is still delivered in order unless the app published more
 * meanwhile.
 *
 * The append script refuses a token that does not hold the lease, so a deposed sequencer whose
 * appends arrive late cannot order anything twice. The sequencer appends only while its own
 * notifications arrive: an append that failed with the connection (a failover) may have been
 * appended all the same, and the feed's catch-up after it came back shows which.
 */
@Injectable()
export class Sequencer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('Sequencer');
  private readonly throttled = new ThrottledLog(this.log);
  private readonly token = randomUUID();
  private leader = false;
  private stopped = false;
  /** In arrival order; matched entries are removed lazily from the front. */
  private held: Held[] = [];
  /** Entries before this index in `held` are matched (skipped lazily, see `compact`). */
  private head = 0;
  private readonly heldByKey = new Map<string, Held[]>();
  private readonly early = new Map<string, { count: number; since: number }>();
  private appending = false;
  /** `performance.now()` before which the next append waits (`recovery.coalesceMs` after the last). */
  private nextAppendAt = 0;
  private flushing: Promise<void> | undefined;
  private timer?: NodeJS.Timeout;
  private rescueTimer?: NodeJS.Timeout;
  /** The oldest held broadcast, and since when it has been the oldest (a sign the sequencer skipped it). */
  private front?: Held;
  private frontSince = 0;
  /** The offset up to which this node has read the history (`RecoveryFeed`). */
  private position: () => string | undefined = () => undefined;
  /** Whether this node's notifications arrive (`RecoveryFeed`): otherwise held entries may be sequenced already. */
  private feedLive = false;
  private ticking = false;
  private lastTakeOver = 0;
  /** Since when lease checks (`lease`) or appends (`append`) fail: Redis away or failing over. */
  private readonly failing = new Map<string, number>();
  /**
   * When Redis last came back for this node (its notifications resumed, or a lease check that
   * failed or waited for a failover answered): no sequencer could append before, so neither a
   * rescue nor a lost lease is judged from earlier.
   */
  private resumedAt = 0;

  constructor(
    private readonly recovery: RecoveryLog,
    private readonly config: RecoveryConfig,
    private readonly metrics: RelayMetrics,
    /** Laravel's subscription on this node; absent in specs that feed `submit` themselves. */
    @Optional() private readonly subscriber?: LaravelRedisServer,
    @Optional() private readonly broadcast?: BroadcastConfig,
  ) {}

  /**
   * Only a node that receives Laravel's broadcasts may order them: one whose subscription is down
   * (or switched off) would hold the lease and order nothing, and everything would wait for rescue.
   */
  private get canSequence(): boolean {
    if (this.broadcast && !this.broadcast.redis) return false;
    return this.subscriber === undefined || this.subscriber.subscribed;
  }

  /** True while this node holds the lease. */
  get isSequencer(): boolean {
    return this.leader;
  }

  onApplicationBootstrap(): void {
    if (!this.config.enabled) return;
    this.metrics.sequencer.set(0);
    void this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.config.leaseMs / 3)));
    this.timer.unref();
    this.rescueTimer = setInterval(() => {
      if (!this.leader && !this.ticking) void this.rescue();
    }, RESCUE_CHECK_MS);
    this.rescueTimer.unref();
  }

  /** `RecoveryFeed` says how far this node has read the history. */
  readPositionFrom(position: () => string | undefined): void {
    this.position = position;
  }

  /** How long the oldest held broadcast waits unappended before a follower appends it itself. */
  get rescueAfterMs(): number {
    return Math.max(1000, Math.floor(this.config.leaseMs / 2));
  }

  /** Laravel broadcasts from one Redis read, in order. */
  submit(broadcasts: { broadcast: BroadcastDto; raw: string; redisChannel: string }[], receivedAt?: number): void {
    const now = Date.now();
    for (const { broadcast, raw, redisChannel } of broadcasts) {
      // One-shot: a Hash object and three update calls per message cost more than the digest itself.
      // The same bytes, so the same key as nodes that build it with `createHash`.
      const key = hash('sha1', `${redisChannel}\n${raw}`, 'base64url');
      // A follower whose copy comes after the notification (Cluster nodes relay pub/sub on their
      // own links) does not hold it. The sequencer always appends what it receives: a notification
      // without a copy here may have been an identical broadcast of a moment ago.
      const early = this.leader ? undefined : this.early.get(key);
      if (early && early.since >= now - EARLY_TTL_MS) {
        if (--early.count === 0) this.early.delete(key);
        continue;
      }
      const held: Held = {
        key,
        entry: pendingEntry(broadcast, { k: key }),
        since: now,
        receivedAt,
        appended: false,
      };
      this.held.push(held);
      let same = this.heldByKey.get(key);
      if (!same) this.heldByKey.set(key, (same = []));
      same.push(held);
    }
    this.trimHeld();
    if (this.leader) void this.flush();
    else this.tryTakeOver();
  }

  /**
   * Broadcasts arrive while no node orders them (the first node starting, the only node
   * restarting): try for the lease now rather than at the next tick, at most every 100 ms.
   */
  private tryTakeOver(): void {
    const now = Date.now();
    if (this.stopped || this.ticking || now - this.lastTakeOver < 100) return;
    this.lastTakeOver = now;
    void this.tick();
  }

  /**
   * A Laravel broadcast came back sequenced (from any node): it is no longer held here. Returns
   * when this node received it (`performance.now()`), if it did. Without a copy held, it is
   * remembered for a moment as arriving early, unless `remember` is false (entries read from the
   * history at startup, whose copies this node may never receive).
   */
  sequenced(key: string, remember = true): number | undefined {
    const same = this.heldByKey.get(key);
    const held = same?.shift();
    if (held) {
      if (same!.length === 0) this.heldByKey.delete(key);
      held.key = '';
      this.compact();
      return held.receivedAt;
    }
    if (!remember) return undefined;
    const early = this.early.get(key);
    if (early) early.count++;
    else this.early.set(key, { count: 1, since: Date.now() });
    return undefined;
  }

  /** `RecoveryFeed` tells whether notifications reach this node. */
  setFeedLive(live: boolean): void {
    this.feedLive = live;
    if (live) this.resumedAt = Date.now();
    if (live && this.leader) void this.flush();
  }

  /** The sequencer gave its lease up: try to take over now rather than at the next tick. */
  released(): void {
    if (!this.leader && !this.stopped) void this.tick();
  }

  /** Graceful stop: finish the appends in flight and hand the lease to another node at once. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.rescueTimer);
    if (!this.leader) return;
    // Bounded: a Redis that answers nothing would hold the stop until its hard limit. What is not
    // appended then is rescued by the followers, and the lease expires for one to take over.
    await withTimeout(this.handOver(), RELEASE_TIMEOUT_MS).catch((err: Error) =>
      this.log.warn(`Could not release the sequencer lease (it expires within a lease): ${err.message}`),
    );
  }

  private async handOver(): Promise<void> {
    await this.flush();
    this.leader = false;
    this.metrics.sequencer.set(0);
    await this.recovery.releaseLease(this.token);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.ticking) return;
    this.ticking = true;
    try {
      await this.checkLease();
    } finally {
      this.ticking = false;
    }
  }

  private async checkLease(): Promise<void> {
    const started = Date.now();
    try {
      if (this.leader && !this.canSequence) {
        await this.flush();
        this.demote("this node's subscription to Laravel's broadcasts is down");
        await this.recovery.releaseLease(this.token);
      } else if (this.leader) {
        // Expired while Redis failed over (nobody could take it meanwhile): taken again at once.
        if (!(await this.recovery.renewLease(this.token)) && !(await this.recovery.acquireLease(this.token)))
          this.demote('the lease was lost');
      } else if (this.canSequence && (await this.recovery.acquireLease(this.token))) {
        this.leader = true;
        this.metrics.sequencer.set(1);
        const waiting = this.live().length;
        this.log.log(`This node orders Laravel's broadcasts now${waiting ? `; appending ${waiting} held` : ''}`);
      }
      if (this.failing.delete('lease') || Date.now() - started > this.config.leaseMs / 3) this.resumedAt = Date.now();
    } catch (err) {
      this.failed('lease', `Sequencer lease check failed: ${(err as Error).message}`);
    }
    this.expireEarly();
    if (this.leader) await this.flush();
    else await this.rescue();
  }

  /**
   * As sequencer: appends every held entry not yet appended, one script call at a time, in order,
   * at most one per `recovery.coalesceMs`. A call while a flush runs returns that flush, which
   * takes up what arrived meanwhile: a graceful stop waits for all of it before giving the lease up.
   */
  private flush(): Promise<void> {
    return (this.flushing ??= this.appendHeld().finally(() => (this.flushing = undefined)));
  }

  private async appendHeld(): Promise<void> {
    if (this.appending) return;
    this.appending = true;
    try {
      while (this.leader && this.feedLive) {
        const batch = this.live().filter((h) => !h.appended);
        if (batch.length === 0) break;
        // What arrives within `coalesceMs` of the last append goes into the next one with the rest:
        // one Redis write and one notification for several broadcasts under steady traffic.
        const wait = this.nextAppendAt - performance.now();
        if (wait > 0 && !this.stopped) {
          await new Promise((resolve) => setTimeout(resolve, wait));
          continue;
        }
        for (const h of batch) h.appended = true;
        this.nextAppendAt = performance.now() + this.config.coalesceMs;
        try {
          const skipped = await this.recovery.append(
            batch.map((h) => h.entry),
            this.token,
            this.position(),
          );
          // A follower appended these first (ours came late): its notification stands for them.
          for (const index of skipped) if (batch[index]) this.forget(batch[index]);
          if (skipped.length > 0) this.compact();
          this.failing.delete('append');
        } catch (err) {
          for (const h of batch) h.appended = false;
          if ((err as Error).message.startsWith('NOTSEQUENCER')) this.demote('another node holds the lease');
          else
            this.failed(
              'append',
              `Appending ${batch.length} broadcast(s) failed, will retry: ${(err as Error).message}`,
            );
          break;
        }
      }
    } finally {
      this.appending = false;
    }
  }

  /**
   * As a follower: the oldest broadcast held here has stayed the oldest, unappended, for
   * `rescueAfterMs` while notifications arrive, so the sequencer appended what came before it and
   * not it (see the class comment). It and every other broadcast held that long are appended by
   * this node, unfenced, skipping what the history already has beyond this node's position.
   * Counted from when Redis came back for this node too: while it was away (a failover), nobody
   * could append.
   */
  private async rescue(): Promise<void> {
    if (this.appending || !this.feedLive || this.stopped) return;
    const now = Date.now();
    this.compact();
    const after = this.rescueAfterMs;
    const before = now - after;
    if (this.front === undefined || this.resumedAt >= before || Math.max(this.frontSince, this.front.since) >= before)
      return;
    const stale = this.live().filter((h) => !h.appended && h.since < before);
    if (stale.length === 0) return;
    this.appending = true;
    for (const h of stale) h.appended = true;
    try {
      const { appended, skipped } = await this.recovery.rescue(
        stale.map((h) => ({ entry: h.entry, key: h.key })),
        this.position(),
      );
      if (appended > 0) {
        this.metrics.recoveryRescued.inc(appended);
        this.log.log(
          `Appended ${appended} broadcast(s) the sequencer did not receive (held ${after} ms or more unappended)`,
        );
      }
      // Appended by the sequencer after this node's position: their notification is on its way.
      if (skipped > 0) this.log.debug(`${skipped} held broadcast(s) were appended by the sequencer meanwhile`);
    } catch (err) {
      for (const h of stale) if (h.key !== '') h.appended = false;
      this.failed(
        'rescue',
        `Appending ${stale.length} held broadcast(s) failed, will retry: ${(err as Error).message}`,
      );
    } finally {
      this.appending = false;
    }
  }

  /** A failure of Redis: at debug while it is shorter than a failover, then a throttled warning. */
  private failed(key: string, message: string): void {
    const now = Date.now();
    const since = this.failing.get(key) ?? now;
    this.failing.set(key, since);
    if (now - since < QUIET_OUTAGE_MS) this.log.debug(message);
    else this.throttled.warn(key, message);
  }

  private demote(why: string): void {
    if (!this.leader) return;
    this.leader = false;
    this.metrics.sequencer.set(0);
    // What was handed to our appends may not have been appended: hold it as unappended again.
    for (const h of this.live()) h.appended = false;
    // Right after Redis came back, the lease may have run out meanwhile and gone to another node.
    if (Date.now() - this.resumedAt < QUIET_OUTAGE_MS) this.log.log(`No longer the sequencer: ${why}`);
    else this.log.warn(`No longer the sequencer: ${why}`);
  }

  /**
   * How long the oldest broadcast this node received has waited to come back from the history
   * (0 when none waits). Past two lease periods even a rescue has failed: the history cannot be
   * written, and nothing this node receives is delivered.
   */
  oldestWaitingMs(now = Date.now()): number {
    this.compact();
    const oldest = this.held[this.head];
    return oldest === undefined ? 0 : now - oldest.since;
  }

  /** Held entries still waiting, in arrival order. */
  private live(): Held[] {
    this.compact();
    const out: Held[] = [];
    for (let i = this.head; i < this.held.length; i++) if (this.held[i].key !== '') out.push(this.held[i]);
    return out;
  }

  /**
   * Skips matched entries at the front. The array is copied only when the skipped part is large
   * and most of it: matching happens once per broadcast, so a copy each time would cost O(n²).
   */
  private compact(): void {
    while (this.head < this.held.length && this.held[this.head].key === '') this.head++;
    const front = this.held[this.head];
    if (front !== this.front) {
      this.front = front;
      this.frontSince = Date.now();
    }
    if (this.head === this.held.length) {
      this.held = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.held.length) {
      this.held = this.held.slice(this.head);
      this.head = 0;
    }
  }

  private trimHeld(): void {
    const excess = this.held.length - this.head - MAX_HELD;
    if (excess <= 0) return;
    for (const h of this.held.slice(this.head, this.head + excess)) this.forget(h);
    this.compact();
    this.metrics.messagesDropped.inc({ reason: 'unsequenced' }, excess);
    this.throttled.warn(
      'overflow',
      `Gave up ${excess} broadcast(s) that no sequencer ordered (more than ${MAX_HELD} held)`,
    );
  }

  private forget(h: Held): void {
    if (h.key === '') return;
    const same = this.heldByKey.get(h.key);
    const index = same?.indexOf(h) ?? -1;
    if (index >= 0) same!.splice(index, 1);
    if (same?.length === 0) this.heldByKey.delete(h.key);
    h.key = '';
  }

  private expireEarly(): void {
    const before = Date.now() - EARLY_TTL_MS;
    for (const [key, early] of this.early) if (early.since < before) this.early.delete(key);
  }
}
