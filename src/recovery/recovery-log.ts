import { randomBytes } from 'node:crypto';
import type { BroadcastDto } from '../broadcast/broadcast.dto.js';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { defineScript, type ScriptRunner } from '../internals/ioredis-commands.js';
import { closeRedisClient, connectRedis } from '../redis/redis-client.js';
import type { RedisClient } from '../redis/redis-options.js';
import { RedisConfig } from '../redis/redis.config.js';
import { compareOffsets, isOffset, type Offset } from './offsets.js';
import { RecoveryConfig } from './recovery.config.js';
import {
  APPEND_SCRIPT,
  RELEASE_LEASE_SCRIPT,
  RESCUE_SCRIPT,
  RENEW_LEASE_SCRIPT,
  RESTORE_SCRIPT,
  SAVE_SESSION_SCRIPT,
} from './recovery-scripts.js';

/** Namespace of every recovery key; the hash tag keeps them in one Cluster slot. */
export const RECOVERY_NAMESPACE = 'echo-relay:{recovery}:';
export const HISTORY_KEY = `${RECOVERY_NAMESPACE}history`;
export const LEASE_KEY = `${RECOVERY_NAMESPACE}sequencer`;
/** Broadcasts a follower rescued (`rescue`), counted by key, so that the sequencer skips its own late copy. */
export const RESCUED_KEY = `${RECOVERY_NAMESPACE}rescued`;
/** Where appended entries are announced to every node (outside any Laravel prefix's pattern). */
export const NOTIFY_CHANNEL = 'echo-relay#recovery';
/** Published on `NOTIFY_CHANNEL` when a sequencer gives its lease up. */
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
}

export type RestoreFailure = 'unknown_session' | 'trimmed' | 'invalid_offset' | 'unsupported';

export type RestoreResult =
  | { ok: true; session: SessionState; last: Offset; entries: [Offset, HistoryEntry][] }
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

  constructor(
    redisConfig: RedisConfig,
    private readonly config: RecoveryConfig,
  ) {
    // Appends fail fast while Redis is away (the caller keeps the entries and tries again);
    // queued for long, a restore would answer a client that has long given up.
    this.redis = connectRedis(redisConfig, 'recovery', this.log, { maxRetriesPerRequest: 1, lazyConnect: true });
    if (config.enabled) this.redis.connect().catch(() => undefined);
    this.scripts = {
      append: defineScript(this.redis, 'recoveryAppend', APPEND_SCRIPT, HISTORY_KEY),
      rescue: defineScript(this.redis, 'recoveryRescue', RESCUE_SCRIPT, HISTORY_KEY),
      restore: defineScript(this.redis, 'recoveryRestore', RESTORE_SCRIPT, HISTORY_KEY),
      save: defineScript(this.redis, 'recoverySaveSession', SAVE_SESSION_SCRIPT, HISTORY_KEY),
      renew: defineScript(this.redis, 'recoveryRenewLease', RENEW_LEASE_SCRIPT, HISTORY_KEY),
      release: defineScript(this.redis, 'recoveryReleaseLease', RELEASE_LEASE_SCRIPT, HISTORY_KEY),
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
      LEASE_KEY,
      token,
      String(this.config.maxHistory),
      NOTIFY_CHANNEL,
      ttl,
      RESCUED_KEY,
      seen ?? '',
    ];
    for (const { channel, json } of entries) args.push(channel, json);
    const reply = (await this.scripts.append(...args)) as number[];
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
    const args: string[] = [String(this.config.maxHistory), NOTIFY_CHANNEL, ttl, RESCUED_KEY, keep, seen ?? ''];
    for (const { entry, key } of entries) args.push(entry.channel, entry.json, key);
    const [appended, skipped] = (await this.scripts.rescue(...args)) as [number, number];
    return { appended, skipped };
  }

  /** The newest `count` entries, newest first. */
  async newest(count: number): Promise<[Offset, HistoryEntry][]> {
    const rows = (await this.redis.xrevrange(HISTORY_KEY, '+', '-', 'COUNT', count)) as [string, string[]][];
    return rows.map(([id, fields]) => [id, JSON.parse(fields[3]) as HistoryEntry]);
  }

  /** Entries after `offset`, oldest first (a node catching up after its notifications stopped). */
  async after(offset: Offset, count: number): Promise<[Offset, HistoryEntry][]> {
    const rows = (await this.redis.xrange(HISTORY_KEY, `(${offset}`, '+', 'COUNT', count)) as [string, string[]][];
    return rows.map(([id, fields]) => [id, JSON.parse(fields[3]) as HistoryEntry]);
  }

  /** Claims a session and reads what its channels missed after `offset`. */
  async restore(pid: string, offset: Offset): Promise<RestoreResult> {
    const reply = (await this.scripts.restore(
      sessionKey(pid),
      offset,
      // Entries of other channels are scanned but not returned: the whole history at most.
      this.config.maxHistory * 2,
    )) as (string | number)[];
    if (reply[0] === 0) return { ok: false, reason: 'unknown_session' };
    if (reply[0] === 2) {
      this.log.warn('Redis before 7.0 cannot tell what the history trimmed: sessions are not restored');
      return { ok: false, reason: 'unsupported' };
    }
    const [, json, last, deleted, trimmedBefore] = reply as [number, string, string, string, string];
    const session = JSON.parse(json) as SessionState;
    // No history: it expired idle (nothing appended for twice the window, so nothing was missed;
    // a Redis that lost its data lost the session too).
    if (last === '') return { ok: true, session, last: offset, entries: [] };
    if (!isOffset(last) || compareOffsets(offset, last) > 0) return { ok: false, reason: 'invalid_offset' };
    // Something after the client's offset may have been trimmed away: it cannot be told what it missed.
    if (isOffset(deleted) && compareOffsets(offset, deleted) < 0) return { ok: false, reason: 'trimmed' };
    if (isOffset(trimmedBefore) && compareOffsets(offset, trimmedBefore) < 0) return { ok: false, reason: 'trimmed' };
    const entries: [Offset, HistoryEntry][] = [];
    for (let i = 5; i < reply.length; i += 2) {
      entries.push([String(reply[i]), JSON.parse(String(reply[i + 1])) as HistoryEntry]);
    }
    return { ok: true, session, last, entries };
  }

  /** Writes a session unless another connection took it over; `force` takes it over. */
  async saveSession(pid: string, owner: string, state: SessionState, ttlMs: number, force = false): Promise<void> {
    await this.scripts.save(sessionKey(pid), owner, JSON.stringify(state), ttlMs, force ? '1' : '0');
  }

  /** Extends sessions of live connections (one pipeline). */
  async touchSessions(pids: string[], ttlMs: number): Promise<void> {
    if (pids.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const pid of pids) pipeline.pexpire(sessionKey(pid), ttlMs);
    await pipeline.exec();
  }

  /** Takes the sequencer lease if nobody holds it. */
  async acquireLease(token: string): Promise<boolean> {
    return (await this.redis.set(LEASE_KEY, token, 'PX', this.config.leaseMs, 'NX')) === 'OK';
  }

  async renewLease(token: string): Promise<boolean> {
    return (await this.scripts.renew(LEASE_KEY, token, this.config.leaseMs)) === 1;
  }

  /** Gives the lease up and tells the other nodes, so one of them takes over at once. */
  async releaseLease(token: string): Promise<void> {
    if ((await this.scripts.release(LEASE_KEY, token)) === 1) await this.redis.publish(NOTIFY_CHANNEL, RELEASED);
  }

  async onApplicationShutdown(): Promise<void> {
    await closeRedisClient(this.redis);
  }
}

function sessionKey(pid: string): string {
  return `${RECOVERY_NAMESPACE}session:${pid}`;
}
