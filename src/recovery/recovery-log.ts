import { randomBytes, randomUUID } from 'node:crypto';
import type { BroadcastDto } from '../broadcast/broadcast.dto.js';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { defineScript, type ScriptRunner } from '../internals/ioredis-commands.js';
import { closeRedisClient, connectRedis } from '../redis/redis-client.js';
import type { RedisClient } from '../redis/redis-options.js';
import { RedisConfig } from '../redis/redis.config.js';
import { redisNames } from '../redis/redis-namespace.js';
import { compareOffsets, isOffset, type Offset } from './offsets.js';
import { RecoveryConfig } from './recovery.config.js';
import {
  APPEND_SCRIPT,
  RELEASE_LEASE_SCRIPT,
  RESCUE_SCRIPT,
  RENEW_LEASE_SCRIPT,
  RESTORE_SCRIPT,
  SAVE_SESSIONS_SCRIPT,
} from './recovery-scripts.js';

/**
 * The recovery keys and channel of the app whose Laravel prefix is given (`redisNames`): every key
 * under one namespace, whose hash tag keeps them in one Cluster slot.
 */
export function recoveryKeys(prefix: string): RecoveryKeys {
  const { recovery: ns, recoveryChannel } = redisNames(prefix);
  return {
    history: `${ns}history`,
    lease: `${ns}sequencer`,
    rescued: `${ns}rescued`,
    notify: recoveryChannel,
    session: (pid) => `${ns}session:${pid}`,
    call: (id) => `${ns}call:${id}`,
  };
}

export interface RecoveryKeys {
  /** The history stream. */
  history: string;
  /** The sequencer's lease. */
  lease: string;
  /** Broadcasts a follower rescued (`rescue`), counted by key, so that the sequencer skips its own late copy. */
  rescued: string;
  /** Where appended entries are announced to every node (outside the Laravel prefix's pattern). */
  notify: string;
  session(pid: string): string;
  /** Marks an append call that ran (`APPEND_SCRIPT`). */
  call(id: string): string;
}

/** Published on the notification channel when a sequencer gives its lease up. */
export const RELEASED = 'released';

/** One broadcast as it is kept in the history and sent between nodes. */
export interface HistoryEntry {
  /** Channel. */
  c: string;
  /** Event. */
  e: string;
  /** Data. */
  d: unknown;
  /** Socket id excluded (`toOthers`), or null. */
  s: string | null;
  /** For Laravel's broadcasts: the key the other nodes hold the raw message under until it comes back sequenced. */
  k?: string;
  /** For HTTP publishes: the node that took the request (`RecoveryLog.node`) ... */
  o?: string;
  /** ... and when it did (its `performance.now()`), for its ingest-to-emit histogram. */
  t?: number;
}

/** An entry to append: the channel (a field of its own, filtered on by restores) and the entry JSON. */
export interface PendingEntry {
  channel: string;
  json: string;
}

/**
 * A broadcast as an entry to append: its channel and its `HistoryEntry` JSON, with `extra` naming
 * where it came from (`k` for Laravel's, `o`/`t` for HTTP publishes).
 */
export function pendingEntry(
  broadcast: BroadcastDto,
  extra: Pick<HistoryEntry, 'k'> | Pick<HistoryEntry, 'o' | 't'>,
): PendingEntry {
  const entry: HistoryEntry = {
    c: broadcast.channel,
    e: broadcast.event,
    d: broadcast.data,
    s: broadcast.socket ?? null,
  };
  return { channel: broadcast.channel, json: JSON.stringify(Object.assign(entry, extra)) };
}

/** What a session holds: the socket's id and channels, and its presence members. */
export interface SessionState {
  sid: string;
  channels: string[];
  members: Record<string, unknown>;
  /**
   * Per channel, the position of the node's feed when the socket joined it: a restore delivers
   * nothing of a channel from before its join, and reads from the earliest of them when the
   * client has no offset (it received no broadcast yet). Absent in sessions of older versions.
   */
  since?: Record<string, Offset>;
}

export type RestoreFailure = 'unknown_session' | 'trimmed' | 'invalid_offset' | 'no_offset' | 'unsupported';

export type RestoreResult =
  | { ok: true; session: SessionState; from: Offset; last: Offset; entries: [Offset, HistoryEntry][] }
  | { ok: false; reason: RestoreFailure };

/**
 * The recovery state in Redis: the history (one stream for all channels, so one offset orders
 * every broadcast of the cluster), the sequencer lease and the sessions. One command connection;
 * every operation is one script, atomic on its own.
 */
@Injectable()
export class RecoveryLog implements OnApplicationShutdown {
  private readonly log = new Logger('Recovery');
  /** This process, as HTTP publishes name it in their entries. */
  readonly node = randomBytes(9).toString('base64url');
  private readonly redis: RedisClient;
  private readonly scripts: Record<'append' | 'rescue' | 'restore' | 'save' | 'renew' | 'release', ScriptRunner>;
  /**
   * Session writes not sent yet, by session key and owner (a later write of the same connection
   * replaces its earlier one), in the order of their latest write.
   */
  private readonly queued = new Map<string, QueuedSave>();
  /** The session keys `queued` holds a write of: a restore of one of them sends the queue first. */
  private readonly queuedKeys = new Set<string>();
  /** Names this process's append calls and restore claims: `<callPrefix><n>` (see `APPEND_SCRIPT`, `RESTORE_SCRIPT`). */
  private readonly callPrefix = `${randomUUID()}:`;
  private calls = 0;
  /** The write call in flight, if any: at most one at a time. */
  private inFlight?: Promise<void>;
  private flushTimer?: NodeJS.Timeout;
  /** When the last write call was sent (`performance.now()`). */
  private lastFlush = -Infinity;

  /** This app's keys and notification channel. */
  readonly keys: RecoveryKeys;

  constructor(
    redisConfig: RedisConfig,
    private readonly config: RecoveryConfig,
  ) {
    this.keys = recoveryKeys(redisConfig.prefix);
    // Appends fail fast while Redis is away (the caller keeps the entries and tries again);
    // queued for long, a restore would answer a client that has long given up.
    this.redis = connectRedis(redisConfig, 'recovery', this.log, { maxRetriesPerRequest: 1, lazyConnect: true });
    if (config.enabled) this.redis.connect().catch(() => undefined);
    this.scripts = {
      append: defineScript(this.redis, 'recoveryAppend', APPEND_SCRIPT, this.keys.history),
      rescue: defineScript(this.redis, 'recoveryRescue', RESCUE_SCRIPT, this.keys.history),
      restore: defineScript(this.redis, 'recoveryRestore', RESTORE_SCRIPT, this.keys.history),
      save: defineScript(this.redis, 'recoverySaveSessions', SAVE_SESSIONS_SCRIPT, this.keys.history),
      renew: defineScript(this.redis, 'recoveryRenewLease', RENEW_LEASE_SCRIPT, this.keys.history),
      release: defineScript(this.redis, 'recoveryReleaseLease', RELEASE_LEASE_SCRIPT, this.keys.history),
    };
  }

  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  /**
   * Appends and announces entries in order; `token` fences Laravel's broadcasts to the lease
   * holder, `seen` is the offset up to which the sequencer has read the history. Returns the
   * indices of entries not appended because a follower rescued them beyond `seen`.
   */
  async append(entries: PendingEntry[], token = '', seen?: Offset): Promise<number[]> {
    // Idle for twice the window, the history holds nothing a session could still ask for.
    const ttl = String(2 * this.config.windowMs);
    const args: string[] = [
      this.keys.lease,
      token,
      String(this.config.maxHistory),
      this.keys.notify,
      ttl,
      this.keys.rescued,
      seen ?? '',
      this.keys.call(`${this.callPrefix}${++this.calls}`),
    ];
    for (const { channel, json } of entries) args.push(channel, json);
    const reply = (await this.scripts.append(...args)) as number[];
    // -1 first: this very call ran before, its reply lost; the rest is what that run skipped.
    return reply.slice(1);
  }

  /**
   * Appends, unfenced, Laravel's broadcasts a follower holds and the sequencer has not appended
   * (keyed as the sequencer matches them), skipping those appended after `seen`, the offset up to
   * which this node has read the history. Returns how many were appended and how many skipped.
   */
  async rescue(
    entries: { entry: PendingEntry; key: string }[],
    seen: Offset | undefined,
  ): Promise<{ appended: number; skipped: number }> {
    const ttl = String(2 * this.config.windowMs);
    const keep = String(2 * this.config.leaseMs);
    const args: string[] = [String(this.config.maxHistory), this.keys.notify, ttl, this.keys.rescued, keep, seen ?? ''];
    for (const { entry, key } of entries) args.push(entry.channel, entry.json, key);
    const [appended, skipped] = (await this.scripts.rescue(...args)) as [number, number];
    return { appended, skipped };
  }

  /** The newest `count` entries, newest first. */
  async newest(count: number): Promise<[Offset, HistoryEntry][]> {
    this.flushNow();
    const rows = (await this.redis.xrevrange(this.keys.history, '+', '-', 'COUNT', count)) as [string, string[]][];
    return rows.map(([id, fields]) => [id, JSON.parse(fields[3]) as HistoryEntry]);
  }

  /** Entries after `offset`, oldest first (a node catching up after its notifications stopped). */
  async after(offset: Offset, count: number): Promise<[Offset, HistoryEntry][]> {
    this.flushNow();
    const rows = (await this.redis.xrange(this.keys.history, `(${offset}`, '+', 'COUNT', count)) as [
      string,
      string[],
    ][];
    return rows.map(([id, fields]) => [id, JSON.parse(fields[3]) as HistoryEntry]);
  }

  /**
   * Claims a session and reads what its channels missed after `offset`, or, for a client with
   * no offset, after the earliest of the session's join positions (`from` in the result).
   */
  async restore(pid: string, offset: Offset | undefined): Promise<RestoreResult> {
    // A write of this session still queued goes first, on the same connection: the restore reads
    // it. Other sessions' writes stay queued: in a reconnect storm, sending them before every
    // restore would make one write call per restore of what is otherwise one per batch.
    const key = this.keys.session(pid);
    if (this.queuedKeys.has(key)) this.flushNow();
    const reply = (await this.scripts.restore(
      key,
      offset ?? '',
      // The most entries returned (read from the channels' indexes), or scanned when the history
      // has entries without an index: the whole history at most.
      this.config.maxHistory * 2,
      // Owner tokens are base64url: no claim is ever taken for one.
      `restored:${this.callPrefix}${++this.calls}`,
    )) as (string | number)[];
    if (reply[0] === 0) return { ok: false, reason: 'unknown_session' };
    if (reply[0] === 3) return { ok: false, reason: 'no_offset' };
    if (reply[0] === 2) {
      this.log.warn('Redis before 7.0 cannot tell what the history trimmed: sessions are not restored');
      return { ok: false, reason: 'unsupported' };
    }
    const [, json, from, last, deleted, trimmedBefore] = reply as [number, string, string, string, string, string];
    const session = JSON.parse(json) as SessionState;
    if (!isOffset(from)) return { ok: false, reason: 'invalid_offset' };
    // No history: it expired idle (nothing appended for twice the window, so nothing was missed;
    // a Redis that lost its data lost the session too).
    if (last === '') return { ok: true, session, from, last: from, entries: [] };
    if (!isOffset(last) || compareOffsets(from, last) > 0) return { ok: false, reason: 'invalid_offset' };
    // Something after the offset may have been trimmed away: it cannot be told what was missed.
    if (isOffset(deleted) && compareOffsets(from, deleted) < 0) return { ok: false, reason: 'trimmed' };
    if (isOffset(trimmedBefore) && compareOffsets(from, trimmedBefore) < 0) return { ok: false, reason: 'trimmed' };
    const entries: [Offset, HistoryEntry][] = [];
    for (let i = 6; i < reply.length; i += 2) {
      entries.push([String(reply[i]), JSON.parse(String(reply[i + 1])) as HistoryEntry]);
    }
    return { ok: true, session, from, last, entries };
  }

  /**
   * Writes a session unless another connection took it over; `force` takes it over. Writes are
   * queued and sent together, one call at a time and at most one every `SAVE_INTERVAL_MS`; the
   * promise settles with the call that carried this write. A history read and the shutdown send
   * what is queued first, so on this connection every later command sees it; a restore does when
   * the queue holds a write of its own session.
   *
   * `state` may be a function, called when the write is sent: a socket subscribing to a thousand
   * channels in a burst (Echo after a reconnect) then costs one session built and serialised per
   * call, not one per subscribe, each as long as all the channels before it.
   */
  saveSession(
    pid: string,
    owner: string,
    state: SessionState | (() => SessionState),
    ttlMs: number,
    force = false,
  ): Promise<void> {
    const key = this.keys.session(pid);
    const id = `${owner}\n${key}`;
    const earlier = this.queued.get(id);
    // Re-inserted, so it goes in the order of its latest write; a takeover stays one.
    if (earlier) this.queued.delete(id);
    const save: QueuedSave = earlier ?? { key, owner, state, ttl: '', force: false, done: deferred() };
    save.state = state;
    save.ttl = String(ttlMs);
    save.force ||= force;
    this.queued.set(id, save);
    this.queuedKeys.add(key);
    this.scheduleFlush();
    return save.done.promise;
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.inFlight || this.queued.size === 0) return;
    const wait = Math.max(0, this.lastFlush + SAVE_INTERVAL_MS - performance.now());
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushNow();
    }, wait);
  }

  /**
   * Deletes a session unless another connection took it over: its socket ended for good (a client
   * or the server disconnected it), so no client will come back for it. Queued with the writes,
   * after any of the same connection's.
   */
  dropSession(pid: string, owner: string): Promise<void> {
    return this.saveSession(pid, owner, DROPPED, 0);
  }

  /** Sends what is queued now, in calls of at most `SAVE_BATCH` sessions. */
  private flushNow(): void {
    if (this.queued.size === 0) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    while (this.queued.size > 0) {
      const batch: QueuedSave[] = [];
      const args: string[] = [];
      for (const [id, save] of this.queued) {
        this.queued.delete(id);
        batch.push(save);
        const state = typeof save.state === 'function' ? save.state() : save.state;
        const json = save.ttl === '0' ? '' : JSON.stringify(state);
        args.push(save.key, save.owner, json, save.ttl, save.force ? '1' : '0');
        if (batch.length === SAVE_BATCH) break;
      }
      this.lastFlush = performance.now();
      const call = this.scripts.save(...args).then(
        () => batch.forEach((save) => save.done.resolve()),
        (err: unknown) => batch.forEach((save) => save.done.reject(err)),
      );
      const settled: Promise<void> = call.finally(() => {
        if (this.inFlight !== settled) return;
        this.inFlight = undefined;
        this.scheduleFlush();
      });
      this.inFlight = settled;
    }
    this.queuedKeys.clear();
  }

  /** Extends sessions of live connections (one pipeline). */
  async touchSessions(pids: string[], ttlMs: number): Promise<void> {
    if (pids.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const pid of pids) pipeline.pexpire(this.keys.session(pid), ttlMs);
    await pipeline.exec();
  }

  /** Takes the sequencer lease if nobody holds it. */
  async acquireLease(token: string): Promise<boolean> {
    return (await this.redis.set(this.keys.lease, token, 'PX', this.config.leaseMs, 'NX')) === 'OK';
  }

  async renewLease(token: string): Promise<boolean> {
    return (await this.scripts.renew(this.keys.lease, token, this.config.leaseMs)) === 1;
  }

  /** Gives the lease up and tells the other nodes, so one of them takes over at once. */
  async releaseLease(token: string): Promise<void> {
    if ((await this.scripts.release(this.keys.lease, token)) === 1)
      await this.redis.publish(this.keys.notify, RELEASED);
  }

  async onApplicationShutdown(): Promise<void> {
    // Sessions of the sockets the shutdown disconnected: the clients restore them elsewhere.
    this.flushNow();
    await closeRedisClient(this.redis);
  }
}

/** Fewest milliseconds between two session write calls: the writes of a burst go in one. */
const SAVE_INTERVAL_MS = 20;
/** The state of a session being deleted (`dropSession`): never written. */
const DROPPED: SessionState = { sid: '', channels: [], members: {} };
/** Most sessions one write call carries (a call blocks Redis while its script runs). */
const SAVE_BATCH = 500;

interface QueuedSave {
  key: string;
  owner: string;
  /** The session, or how to build it when the write is sent (see `saveSession`). */
  state: SessionState | (() => SessionState);
  ttl: string;
  force: boolean;
  done: Deferred;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  // Callers that drop the promise leave no unhandled rejection behind.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
