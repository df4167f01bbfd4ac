import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { startRedis, type TestRedis } from '../../test/support/redis-server.js';
import { recoveryConfig } from '../../test/support/recovery.js';
import { sleep, waitUntil } from '../../test/support/ports.js';
import { ReplyLosingProxy } from '../../test/support/reply-losing-proxy.js';
import type { Offset } from './offsets.js';
import {
  recoveryKeys,
  RELEASED,
  RecoveryLog,
  type HistoryEntry,
  type PendingEntry,
  type SessionState,
} from './recovery-log.js';

const { history: HISTORY_KEY, lease: LEASE_KEY, notify: NOTIFY_CHANNEL } = recoveryKeys('');
/** The recovery keys' namespace: the history's key without `history`. */
const NAMESPACE = HISTORY_KEY.slice(0, -'history'.length);

/** An entry of `channel` as the ingest paths build them. */
function entry(channel: string, event: string, n = 0): PendingEntry {
  const history: HistoryEntry = { c: channel, e: event, d: { n }, s: null };
  return { channel, json: JSON.stringify(history) };
}

const session = (sid: string, channels: string[]): SessionState => ({ sid, channels, members: {} });

// The recovery keys are fixed (`echo-relay:{recovery}:*`): this spec has a Redis of its own and empties it per test.
describe('RecoveryLog', () => {
  let redis: TestRedis;
  let admin: Redis;
  let sub: Redis;
  let notifications: string[];
  const logs: RecoveryLog[] = [];

  function open(env: Record<string, string> = {}): RecoveryLog {
    const config = recoveryConfig(redis.url, env);
    const log = new RecoveryLog(config.redis, config.recovery);
    logs.push(log);
    return log;
  }

  /** `test` with a log whose Redis connection goes through a proxy that can lose a reply (closed afterwards). */
  async function throughReplyLosingProxy(
    test: (log: RecoveryLog, proxy: ReplyLosingProxy) => Promise<void>,
  ): Promise<void> {
    const proxy = await ReplyLosingProxy.start(redis.port);
    try {
      const config = recoveryConfig(proxy.url);
      const log = new RecoveryLog(config.redis, config.recovery);
      logs.push(log);
      await test(log, proxy);
    } finally {
      await proxy.close();
    }
  }

  async function offsets(): Promise<Offset[]> {
    return ((await admin.xrange(HISTORY_KEY, '-', '+')) as [string, string[]][]).map(([id]) => id);
  }

  beforeAll(async () => {
    Logger.overrideLogger(false);
    redis = await startRedis();
    admin = new Redis({ host: redis.host, port: redis.port });
    sub = new Redis({ host: redis.host, port: redis.port });
    sub.on('message', (_channel: string, message: string) => notifications.push(message));
    await sub.subscribe(NOTIFY_CHANNEL);
  });

  afterAll(async () => {
    sub.disconnect();
    admin.disconnect();
    await redis.close();
  });

  beforeEach(async () => {
    await admin.flushall();
    notifications = [];
  });

  afterEach(async () => {
    await Promise.all(logs.splice(0).map((log) => log.onApplicationShutdown()));
  });

  describe('append', () => {
    it('appends the entries in order and announces each call as one notification with their offsets', async () => {
      const log = open();
      await log.append([entry('orders', 'a'), entry('shipments', 'b'), entry('orders', 'c')]);
      await log.append([entry('orders', 'd')]);
      await waitUntil(() => notifications.length === 2, 5000, 'two notifications');

      const ids = await offsets();
      expect(ids).toHaveLength(4);
      const batches = notifications.map((message) => JSON.parse(message) as [Offset, HistoryEntry][]);
      expect(batches.map((batch) => batch.map(([offset, e]) => [offset, e.c, e.e]))).toEqual([
        [
          [ids[0], 'orders', 'a'],
          [ids[1], 'shipments', 'b'],
          [ids[2], 'orders', 'c'],
        ],
        [[ids[3], 'orders', 'd']],
      ]);
      // What a node catching up reads is the same, in the same order.
      expect((await log.after(ids[0], 10)).map(([offset, e]) => [offset, e.e])).toEqual([
        [ids[1], 'b'],
        [ids[2], 'c'],
        [ids[3], 'd'],
      ]);
      expect((await log.newest(2)).map(([offset]) => offset)).toEqual([ids[3], ids[2]]);
    });

    it('appends once when the reply is lost and the client sends the call again (a failover after the script ran)', async () => {
      await throughReplyLosingProxy(async (log, proxy) => {
        await log.append([entry('orders', 'a')]);
        expect(await log.acquireLease('me')).toBe(true);

        // Unfenced (the HTTP API's) and fenced (the sequencer's): each call runs twice in Redis.
        proxy.loseNextReply();
        await log.append([entry('orders', 'b')]);
        proxy.loseNextReply();
        expect(await log.append([entry('orders', 'c')], 'me')).toEqual([]);
        expect(proxy.lost).toBe(2);

        const events = async (): Promise<string[]> =>
          ((await admin.xrange(HISTORY_KEY, '-', '+')) as [string, string[]][]).map(
            ([, fields]) => (JSON.parse(fields[3]) as HistoryEntry).e,
          );
        expect(await events()).toEqual(['a', 'b', 'c']);
        await sleep(100);
        expect(notifications.map((n) => (JSON.parse(n) as [Offset, HistoryEntry][]).map(([, e]) => e.e))).toEqual([
          ['a'],
          ['b'],
          ['c'],
        ]);
      });
    });

    it('refuses a fenced append unless its token holds the lease, appending and announcing nothing', async () => {
      const [one, two] = [open(), open()];
      await expect(one.append([entry('orders', 'a')], 'token-1')).rejects.toThrow(/^NOTSEQUENCER/);
      expect(await one.acquireLease('token-1')).toBe(true);
      expect(await two.acquireLease('token-2')).toBe(false);
      await expect(two.append([entry('orders', 'b')], 'token-2')).rejects.toThrow(/^NOTSEQUENCER/);
      expect(await two.renewLease('token-2')).toBe(false);
      await one.append([entry('orders', 'c')], 'token-1');
      expect(await one.renewLease('token-1')).toBe(true);
      await waitUntil(() => notifications.length === 1, 5000, 'one notification');
      expect((await log0(one)).map(([, e]) => e.e)).toEqual(['c']);

      // A holder that gives the lease up says so; from then on its token appends nothing.
      await two.releaseLease('token-2'); // not its lease: nothing happens
      expect(await admin.get(LEASE_KEY)).toBe('token-1');
      await one.releaseLease('token-1');
      await waitUntil(() => notifications.length === 2, 5000, 'the release notice');
      expect(notifications[1]).toBe(RELEASED);
      expect(await admin.exists(LEASE_KEY)).toBe(0);
      await expect(one.append([entry('orders', 'd')], 'token-1')).rejects.toThrow(/^NOTSEQUENCER/);
      expect(await two.acquireLease('token-2')).toBe(true);
      expect(await offsets()).toHaveLength(1);
    });

    it('keeps a lease for leaseMs unless renewed', async () => {
      const log = open({ ECHO_RELAY_RECOVERY_LEASE_MS: '5000' });
      expect(await log.acquireLease('token-1')).toBe(true);
      const ttl = await admin.pttl(LEASE_KEY);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(5000);
      await admin.pexpire(LEASE_KEY, 100);
      expect(await log.renewLease('token-1')).toBe(true);
      expect(await admin.pttl(LEASE_KEY)).toBeGreaterThan(100);
    });
  });

  /** All entries, oldest first. */
  function log0(log: RecoveryLog): Promise<[Offset, HistoryEntry][]> {
    return log.after('0-0', 1000);
  }

  describe('restore', () => {
    it('fails for a session never saved, expired or already claimed', async () => {
      const log = open();
      await log.append([entry('orders', 'a')]);
      const [first] = await offsets();
      expect(await log.restore('no-such-pid', first)).toEqual({ ok: false, reason: 'unknown_session' });

      await log.saveSession('pid-1', 'owner-1', session('sid-1', ['orders']), 60_000);
      expect(await log.restore('pid-1', first)).toMatchObject({ ok: true });
      // One restore per disconnect: the session is claimed.
      expect(await log.restore('pid-1', first)).toEqual({ ok: false, reason: 'unknown_session' });

      await log.saveSession('pid-2', 'owner-2', session('sid-2', ['orders']), 1_000);
      await admin.pexpire(`echo-relay:{recovery}:session:pid-2`, 1);
      await waitUntil(async () => (await admin.exists('echo-relay:{recovery}:session:pid-2')) === 0);
      expect(await log.restore('pid-2', first)).toEqual({ ok: false, reason: 'unknown_session' });
    });

    it('restores once when the reply is lost and the client sends the call again (a failover after the script ran)', async () => {
      await throughReplyLosingProxy(async (log, proxy) => {
        await log.append([entry('orders', 'seen')]);
        await log.append([entry('orders', 'missed')]);
        const [seen, missed] = await offsets();
        // The script is loaded first, so the call whose reply is lost runs it.
        expect(await log.restore('no-such-pid', seen)).toEqual({ ok: false, reason: 'unknown_session' });
        await log.saveSession('pid-1', 'owner-1', session('sid-1', ['orders']), 60_000);

        proxy.loseNextReply();
        const result = await log.restore('pid-1', seen);

        expect(proxy.lost).toBe(1);
        expect(result).toMatchObject({ ok: true, session: { sid: 'sid-1' }, entries: [[missed, { e: 'missed' }]] });
        // Still one restore per disconnect: another call finds the session claimed.
        expect(await log.restore('pid-1', seen)).toEqual({ ok: false, reason: 'unknown_session' });
      });
    });

    it('sends a queued write of the restored session first, and finds it', async () => {
      const log = open();
      await log.append([entry('orders', 'a')]);
      const [only] = await offsets();
      // Not awaited: still queued when the restore is called.
      const saved = log.saveSession('pid-1', 'owner-1', session('sid-1', ['orders']), 60_000);
      expect(await log.restore('pid-1', only)).toMatchObject({ ok: true, session: session('sid-1', ['orders']) });
      await saved;
      // Another session's write queued meanwhile does not stand in the way.
      const other = log.saveSession('pid-2', 'owner-2', session('sid-2', ['orders']), 60_000);
      await log.saveSession('pid-3', 'owner-3', session('sid-3', ['orders']), 60_000);
      const third = log.saveSession('pid-3', 'owner-3', session('sid-3', ['orders', 'shipments']), 60_000);
      expect(await log.restore('pid-3', only)).toMatchObject({
        ok: true,
        session: { channels: ['orders', 'shipments'] },
      });
      await Promise.all([other, third]);
    });

    it('refuses late writes and the delete of the old connection after a restore; the restored connection takes the session over', async () => {
      const log = open();
      await log.append([entry('orders', 'a')]);
      const [first] = await offsets();
      await log.saveSession('pid-1', 'old-connection', session('sid-1', ['orders']), 60_000);
      expect(await log.restore('pid-1', first)).toMatchObject({ ok: true });

      // A deleted session was written again by such a write, and restored a second time.
      await log.saveSession('pid-1', 'old-connection', session('sid-1', ['orders', 'late']), 60_000);
      expect(await log.restore('pid-1', first)).toEqual({ ok: false, reason: 'unknown_session' });
      await log.dropSession('pid-1', 'old-connection');
      await log.saveSession('pid-1', 'new-connection', session('sid-1', ['orders']), 60_000, true);
      expect(await log.restore('pid-1', first)).toMatchObject({ ok: true, session: { channels: ['orders'] } });
    });

    it('returns the session and, in order, what its channels missed after the offset, and nothing of other channels', async () => {
      const log = open();
      await log.append([entry('orders', 'seen')]);
      await log.append([entry('orders', 'a', 1), entry('shipments', 'x'), entry('private-orders.1', 'b', 2)]);
      await log.append([entry('presence-room', 'y'), entry('orders', 'c', 3)]);
      const ids = await offsets();
      const state: SessionState = {
        sid: 'sid-1',
        channels: ['orders', 'private-orders.1'],
        members: { 'presence-other': { user_id: 1 } },
      };
      await log.saveSession('pid-1', 'owner-1', state, 60_000);

      const result = await log.restore('pid-1', ids[0]);

      expect(result).toEqual({
        ok: true,
        session: state,
        from: ids[0],
        last: ids[5],
        entries: [
          [ids[1], { c: 'orders', e: 'a', d: { n: 1 }, s: null }],
          [ids[3], { c: 'private-orders.1', e: 'b', d: { n: 2 }, s: null }],
          [ids[5], { c: 'orders', e: 'c', d: { n: 3 }, s: null }],
        ],
      });
    });

    it("reads what its channels missed from their indexes, not from a scan of every channel's entries", async () => {
      const log = open();
      await log.append([entry('orders', 'seen')]);
      await log.append([entry('orders', 'a', 1), entry('shipments', 'x'), entry('private-orders.1', 'b', 2)]);
      await log.append([entry('presence-room', 'y'), entry('orders', 'c', 3)]);
      const ids = await offsets();
      const indexOf = (channel: string): Promise<Offset[]> => admin.zrange(`${NAMESPACE}index:${channel}`, '0', '-1');
      expect(await indexOf('orders')).toEqual([ids[0], ids[1], ids[5]]);
      expect(await indexOf('shipments')).toEqual([ids[2]]);
      expect(await admin.hgetall(`${NAMESPACE}indexed`)).toEqual({ since: ids[0], last: ids[5] });
      // A follower's rescue indexes what it appends as well.
      expect(await log.rescue([{ entry: entry('orders', 'r', 4), key: 'rescued-1' }], ids[5])).toEqual({
        appended: 1,
        skipped: 0,
      });
      const rescued = (await offsets())[6];
      expect(await indexOf('orders')).toEqual([ids[0], ids[1], ids[5], rescued]);
      expect(await admin.hgetall(`${NAMESPACE}indexed`)).toEqual({ since: ids[0], last: rescued });
      // What the index lacks is not replayed: the restore read the index, not the history.
      await admin.zrem(`${NAMESPACE}index:orders`, ids[1]);
      await log.saveSession('pid-1', 'owner-1', session('sid-1', ['orders', 'private-orders.1']), 60_000);
      const result = await log.restore('pid-1', ids[0]);
      expect(result.ok && result.entries.map(([offset]) => offset)).toEqual([ids[3], ids[5], rescued]);
    });

    it('scans the history when an entry was added without the index (an older version), and starts the index again', async () => {
      const log = open();
      await log.append([entry('orders', 'a', 1), entry('shipments', 'x')]);
      // As a node of an older version appends: the history only.
      const raw = await admin.xadd(HISTORY_KEY, '*', 'c', 'orders', 'b', entry('orders', 'b', 2).json);
      const [first] = await offsets();
      await log.saveSession('pid-1', 'owner-1', session('sid-1', ['orders']), 60_000);
      const scanned = await log.restore('pid-1', first);
      expect(scanned.ok && scanned.entries.map(([offset]) => offset)).toEqual([raw]);

      // The next append sees the break and starts the chain at its own entry.
      await log.append([entry('orders', 'c', 3), entry('orders', 'd', 4)]);
      const ids = await offsets();
      expect(await admin.hgetall(`${NAMESPACE}indexed`)).toEqual({ since: ids[3], last: ids[4] });
      await admin.zrem(`${NAMESPACE}index:orders`, ids[4]);
      // From before the chain's start the history is scanned (the index's gap does not matter)...
      await log.saveSession('pid-2', 'owner-2', session('sid-2', ['orders']), 60_000);
      const before = await log.restore('pid-2', first);
      expect(before.ok && before.entries.map(([offset]) => offset)).toEqual([raw, ids[3], ids[4]]);
      // ...and from its start on the index is read: what it lacks is not replayed.
      await log.saveSession('pid-3', 'owner-3', session('sid-3', ['orders']), 60_000);
      const after = await log.restore('pid-3', ids[3]);
      expect(after).toMatchObject({ ok: true, entries: [] });
    });

    it('recovers a client that missed nothing, at the newest offset or before any history', async () => {
      const log = open();
      await log.saveSession('pid-1', 'owner-1', session('sid-1', ['orders']), 60_000);
      // No history (never any, or it expired idle): nothing was appended, so nothing was missed.
      expect(await log.restore('pid-1', '0-0')).toEqual({
        ok: true,
        session: session('sid-1', ['orders']),
        from: '0-0',
        last: '0-0',
        entries: [],
      });
      await log.saveSession('pid-2', 'owner-2', session('sid-2', ['orders']), 60_000);
      expect(await log.restore('pid-2', '5-0')).toEqual({
        ok: true,
        session: session('sid-2', ['orders']),
        from: '5-0',
        last: '5-0',
        entries: [],
      });

      await log.append([entry('orders', 'a')]);
      const [only] = await offsets();
      await log.saveSession('pid-3', 'owner-3', session('sid-3', ['orders']), 60_000);
      expect(await log.restore('pid-3', only)).toMatchObject({ ok: true, last: only, entries: [] });
      // The history expires once idle for twice the window.
      const ttl = await admin.pttl(HISTORY_KEY);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2 * recoveryConfig(redis.url).recovery.windowMs);
    });

    it('without an offset reads from the earliest join position of the session, and fails when a channel has none', async () => {
      const log = open();
      await log.append([entry('orders', 'before', 1)]);
      await log.append([entry('orders', 'a', 2), entry('shipments', 'b', 3)]);
      await log.append([entry('shipments', 'c', 4)]);
      const ids = await offsets();
      // Joined orders after the first entry, shipments after the second (the later join wins nothing).
      const state: SessionState = {
        sid: 'sid-1',
        channels: ['orders', 'shipments'],
        members: {},
        since: { shipments: ids[1], orders: ids[0] },
      };
      await log.saveSession('pid-1', 'owner-1', state, 60_000);

      expect(await log.restore('pid-1', undefined)).toEqual({
        ok: true,
        session: state,
        from: ids[0],
        last: ids[3],
        entries: [
          [ids[1], { c: 'orders', e: 'a', d: { n: 2 }, s: null }],
          [ids[2], { c: 'shipments', e: 'b', d: { n: 3 }, s: null }],
          [ids[3], { c: 'shipments', e: 'c', d: { n: 4 }, s: null }],
        ],
      });

      // A channel without a join position (or a session of an older version): nothing to read from.
      await log.saveSession('pid-2', 'owner-2', { ...state, since: { orders: ids[0] } }, 60_000);
      expect(await log.restore('pid-2', undefined)).toEqual({ ok: false, reason: 'no_offset' });
      await log.saveSession('pid-3', 'owner-3', session('sid-3', ['orders']), 60_000);
      expect(await log.restore('pid-3', undefined)).toEqual({ ok: false, reason: 'no_offset' });
      // With the client's offset, the join positions do not move where the read starts.
      await log.saveSession('pid-4', 'owner-4', state, 60_000);
      expect(await log.restore('pid-4', ids[2])).toMatchObject({ ok: true, from: ids[2], entries: [[ids[3], {}]] });
    });

    it('refuses an offset the history never handed out (after its newest entry)', async () => {
      const log = open();
      await log.append([entry('orders', 'a')]);
      const [only] = await offsets();
      const [ms] = only.split('-').map(Number);
      await log.saveSession('pid-1', 'owner-1', session('sid-1', ['orders']), 60_000);
      expect(await log.restore('pid-1', `${ms + 60_000}-0`)).toEqual({ ok: false, reason: 'invalid_offset' });
    });

    it("fails with trimmed when entries of the session's channels after the offset are gone (maxHistory), not other channels'", async () => {
      // MAXLEN ~ trims whole stream nodes (100 entries): a few hundred entries make it trim.
      const log = open({ ECHO_RELAY_RECOVERY_MAX_HISTORY: '100' });
      await log.append([entry('quiet', 'q', -1)]);
      for (let batch = 0; batch < 6; batch++) {
        await log.append(Array.from({ length: 50 }, (_, i) => entry('orders', 'e', batch * 50 + i)));
      }
      const kept = await offsets();
      expect(kept.length).toBeLessThan(300);
      expect(kept.length).toBeGreaterThanOrEqual(100);
      await waitUntil(() => notifications.length === 7, 5000, 'seven notifications');
      const [[quiet]] = JSON.parse(notifications[0]) as [Offset, HistoryEntry][];
      const [[firstAppended]] = JSON.parse(notifications[1]) as [Offset, HistoryEntry][];
      expect(kept).not.toContain(quiet);
      expect(kept).not.toContain(firstAppended);
      await log.saveSession('pid-1', 'owner-1', session('sid-1', ['orders']), 60_000);
      await log.saveSession('pid-2', 'owner-2', session('sid-2', ['orders']), 60_000);
      await log.saveSession('pid-3', 'owner-3', session('sid-3', ['quiet']), 60_000);
      await log.saveSession('pid-4', 'owner-4', session('sid-4', ['quiet', 'orders']), 60_000);

      // A client at the first entry missed entries that were trimmed since: they cannot be replayed.
      expect(await log.restore('pid-1', firstAppended)).toEqual({ ok: false, reason: 'trimmed' });
      const recent = await log.restore('pid-2', kept.at(-4));
      expect(recent.ok && recent.entries.map(([, e]) => e.d)).toEqual([{ n: 297 }, { n: 298 }, { n: 299 }]);
      // A client on a quiet channel whose last broadcast the history trimmed since missed nothing:
      // every entry trimmed after its offset was another channel's.
      expect(await log.restore('pid-3', quiet)).toEqual({
        ok: true,
        session: session('sid-3', ['quiet']),
        from: quiet,
        last: kept.at(-1),
        entries: [],
      });
      // On both channels it missed trimmed entries of one of them.
      expect(await log.restore('pid-4', quiet)).toEqual({ ok: false, reason: 'trimmed' });
      // The channel's index keeps what the history trimmed (for twice the window): the restore can tell.
      expect(await admin.zcard(`${NAMESPACE}index:orders`)).toBe(300);
    });

    it("drops an index's offsets older than twice the window as its channel gets new ones", async () => {
      const log = open({ ECHO_RELAY_RECOVERY_WINDOW_MS: '1000' });
      await log.append([entry('orders', 'old'), entry('shipments', 'x')]);
      expect(await admin.zcard(`${NAMESPACE}index:orders`)).toBe(1);
      // Kept past its expiry in Redis (the history's too): the trim alone must drop the old offset.
      await admin.persist(`${NAMESPACE}index:orders`);
      await sleep(2100);
      await log.append([entry('orders', 'new')]);
      const fresh = (await offsets()).at(-1);
      expect(await admin.zrange(`${NAMESPACE}index:orders`, '0', '-1')).toEqual([fresh]);
      // An idle index expires twice the window after its last entry, as the history does.
      expect(await admin.exists(`${NAMESPACE}index:shipments`)).toBe(0);
    });
  });

  describe('sessions', () => {
    it('refuses a save by another owner unless forced; the owner itself may save again', async () => {
      const log = open();
      await log.append([entry('orders', 'a')]);
      const [only] = await offsets();
      const key = 'echo-relay:{recovery}:session:pid-1';

      await log.saveSession('pid-1', 'old-connection', session('sid-1', ['orders']), 60_000);
      await log.saveSession('pid-1', 'old-connection', session('sid-1', ['orders', 'b']), 60_000);
      await log.saveSession('pid-1', 'other-connection', session('sid-1', ['c']), 60_000);
      expect(await admin.get(key)).toBe(`old-connection\n${JSON.stringify(session('sid-1', ['orders', 'b']))}`);

      // A restored connection takes the session over; the old one's late writes are refused.
      await log.saveSession('pid-1', 'new-connection', session('sid-1', ['orders']), 60_000, true);
      await log.saveSession('pid-1', 'old-connection', session('sid-1', []), 60_000);
      expect(await log.restore('pid-1', only)).toMatchObject({ ok: true, session: session('sid-1', ['orders']) });
    });

    it('builds a session given as a function once, when the write is sent, with what it holds then', async () => {
      const log = open();
      const channels: string[] = [];
      let built = 0;
      const state = (): SessionState => {
        built++;
        return session('sid-1', [...channels]);
      };
      // A burst of subscribes, as Echo sends after a reconnect: each changes the session.
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 1000; i++) {
        channels.push(`orders.${i}`);
        writes.push(log.saveSession('pid-1', 'owner-1', state, 60_000));
      }
      await Promise.all(writes);
      // The first write may leave at once; every later one waits for the call before it.
      expect(built).toBeLessThanOrEqual(2);
      const stored = await admin.get('echo-relay:{recovery}:session:pid-1');
      expect(stored).toBe(`owner-1\n${JSON.stringify(session('sid-1', channels))}`);
    });

    it('drops a session for its owner only: a connection that took it over keeps it', async () => {
      const log = open();
      const key = 'echo-relay:{recovery}:session:pid-1';
      await log.saveSession('pid-1', 'owner-1', session('sid-1', ['orders']), 60_000);
      await log.dropSession('pid-1', 'owner-1');
      expect(await admin.exists(key)).toBe(0);

      await log.saveSession('pid-1', 'owner-1', session('sid-1', ['orders']), 60_000);
      await log.saveSession('pid-1', 'owner-2', session('sid-1', ['orders']), 60_000, true);
      await log.dropSession('pid-1', 'owner-1');
      expect(await admin.get(key)).toBe(`owner-2\n${JSON.stringify(session('sid-1', ['orders']))}`);
    });

    it('keeps sessions alive for ttl, and touchSessions extends them', async () => {
      const log = open();
      await log.saveSession('pid-1', 'owner-1', session('sid-1', ['orders']), 2_000);
      const key = 'echo-relay:{recovery}:session:pid-1';
      const ttl = await admin.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2_000);
      await log.touchSessions(['pid-1', 'pid-unknown'], 60_000);
      expect(await admin.pttl(key)).toBeGreaterThan(2_000);
      // Touching does not create sessions.
      expect(await admin.exists('echo-relay:{recovery}:session:pid-unknown')).toBe(0);
    });
  });
});
