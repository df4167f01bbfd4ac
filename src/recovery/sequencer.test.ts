import { beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { sleep, waitUntil } from '../../test/support/ports.js';
import { laravelMessage, useRecoveryRedis, type RecoveryNode } from '../../test/support/recovery-node.js';
import { recoveryKeys } from './recovery-log.js';

const { history: HISTORY_KEY, lease: LEASE_KEY } = recoveryKeys('');

// Two "nodes" (each its own Redis connections, log, sequencer and feed) on one Redis of this spec's
// own: the recovery keys are fixed, so it is emptied per test.
describe('Sequencer', () => {
  const harness = useRecoveryRedis();
  const { node } = harness;
  let admin: Redis;
  beforeAll(() => {
    admin = harness.admin();
  });

  async function historyEvents(): Promise<string[]> {
    const rows = (await admin.xrange(HISTORY_KEY, '-', '+')) as [string, string[]][];
    return rows.map(([, fields]) => (JSON.parse(fields[3]) as { e: string }).e);
  }

  /** Makes every append of `n` take `ms` longer; returns the original append. */
  function slowAppends(n: RecoveryNode, ms: number): RecoveryNode['log']['append'] {
    const append = n.log.append.bind(n.log);
    n.log.append = async (...args) => {
      await sleep(ms);
      return append(...args);
    };
    return append;
  }

  /** Waits until every node holds nothing: from then on no node appends anything more. */
  async function settled(...of: RecoveryNode[]): Promise<void> {
    await waitUntil(() => of.every((n) => n.held() === 0), 10_000, 'every held broadcast sequenced');
  }

  it('lets only the lease holder append; every node delivers each broadcast once, in one order, with the same offsets', async () => {
    const a = await node({}, true);
    const b = await node();
    expect(b.sequencer.isSequencer).toBe(false);

    const messages = [
      laravelMessage('orders', 'a', { n: 1 }),
      laravelMessage('shipments', 'b', { n: 2 }),
      laravelMessage('orders', 'c', { n: 3 }),
    ];
    // Pub/sub hands every node the same messages; B's read splits them differently.
    a.sequencer.submit(messages);
    b.sequencer.submit(messages.slice(0, 1));
    b.sequencer.submit(messages.slice(1));
    await waitUntil(() => a.delivered.length === 3 && b.delivered.length === 3, 5000, 'three deliveries on each');
    await settled(a, b);

    expect(await historyEvents()).toEqual(['a', 'b', 'c']);
    expect(a.delivered).toEqual(b.delivered);
    expect(a.delivered.map(({ channel, event, data }) => [channel, event, data])).toEqual([
      ['orders', 'a', { n: 1 }],
      ['shipments', 'b', { n: 2 }],
      ['orders', 'c', { n: 3 }],
    ]);
    const ids = ((await admin.xrange(HISTORY_KEY, '-', '+')) as [string, string[]][]).map(([id]) => id);
    expect(a.delivered.map((d) => d.offset)).toEqual(ids);
    expect(await b.rescued()).toBe(0);
  });

  it('delivers identical messages once each, however many there are', async () => {
    const a = await node({}, true);
    const b = await node();
    const same = laravelMessage('orders', 'tick', { n: 1 });
    const messages = [same, same, laravelMessage('orders', 'tock'), same];
    a.sequencer.submit(messages);
    b.sequencer.submit(messages);
    await waitUntil(() => a.delivered.length === 4 && b.delivered.length === 4, 5000, 'four deliveries on each');
    await settled(a, b);

    expect(await historyEvents()).toEqual(['tick', 'tick', 'tock', 'tick']);
    expect(b.events()).toEqual(['tick', 'tick', 'tock', 'tick']);
  });

  it('appends a broadcast identical to ones already in the history when it starts, and to one just notified', async () => {
    const a = await node({}, true);
    const ping = laravelMessage('orders', 'ping', {});
    a.sequencer.submit([ping]);
    await waitUntil(() => a.delivered.length === 1, 5000, 'the first ping');
    await a.stop();
    harness.forget(a);
    // A node starting now reads that entry from the history; the same broadcast published again
    // is a new one, and must not be taken for the copy of the old, even by a node that does not
    // hold the lease yet (a dead sequencer's lease has not expired).
    await admin.set(LEASE_KEY, 'a-dead-node', 'PX', 1500);
    const b = await node();
    b.sequencer.submit([ping]);
    expect(b.held()).toBe(1);
    await waitUntil(() => b.delivered.length === 1, 5000, 'the second ping');
    // As sequencer it appends what it receives even right after an identical one was notified.
    b.sequencer.submit([ping]);
    await waitUntil(() => b.delivered.length === 2, 5000, 'the third ping');
    await settled(b);
    expect(await historyEvents()).toEqual(['ping', 'ping', 'ping']);
  });

  it('hands over at once on a graceful stop: the next node appends what it still holds, nothing twice', async () => {
    const a = await node({}, true);
    const b = await node();
    const first = laravelMessage('orders', 'first');
    a.sequencer.submit([first]);
    b.sequencer.submit([first]);
    await waitUntil(() => b.delivered.length === 1, 5000, 'the first delivery');

    // A never got `missed` (its subscription was already gone); `last` it appends while stopping.
    const missed = laravelMessage('orders', 'missed');
    const last = laravelMessage('orders', 'last');
    b.sequencer.submit([missed]);
    a.sequencer.submit([last]);
    b.sequencer.submit([last]);
    await a.stop();

    await waitUntil(() => b.delivered.length === 3, 5000, 'three deliveries');
    await settled(b);
    expect(b.sequencer.isSequencer).toBe(true);
    expect(await admin.get(LEASE_KEY)).not.toBeNull();
    expect(await historyEvents()).toEqual(['first', 'last', 'missed']);
    expect(b.events()).toEqual(['first', 'last', 'missed']);
    // Taken over on the release notice, not appended as a rescue of a silent sequencer.
    expect(await b.rescued()).toBe(0);
  });

  it('takes over from a killed sequencer once its lease expires; what was published meanwhile is delivered late, not lost', async () => {
    const env = { ECHO_RELAY_RECOVERY_LEASE_MS: '300' };
    const a = await node(env, true);
    const b = await node(env);
    const before = laravelMessage('orders', 'before');
    a.sequencer.submit([before]);
    b.sequencer.submit([before]);
    await waitUntil(() => b.delivered.length === 1, 5000, 'the first delivery');

    await a.kill();
    expect(await admin.get(LEASE_KEY)).not.toBeNull();
    const during = [laravelMessage('orders', 'during', { n: 1 }), laravelMessage('orders', 'during', { n: 2 })];
    b.sequencer.submit(during);

    await waitUntil(() => b.sequencer.isSequencer, 5000, 'the takeover');
    await waitUntil(() => b.delivered.length === 3, 5000, 'the broadcasts published meanwhile');
    await settled(b);
    expect(await historyEvents()).toEqual(['before', 'during', 'during']);
    expect(b.delivered.map((d) => [d.event, d.data])).toEqual([
      ['before', {}],
      ['during', { n: 1 }],
      ['during', { n: 2 }],
    ]);
  });

  it('refuses appends of a deposed sequencer: a node whose lease another took appends nothing more', async () => {
    const a = await node({}, true);
    const b = await node();
    // A's lease is taken from under it (it expired while A was stalled, and B took it).
    await admin.set(LEASE_KEY, 'someone-else');
    const message = laravelMessage('orders', 'fenced');
    a.sequencer.submit([message]);
    await waitUntil(() => !a.sequencer.isSequencer, 5000, 'A noticing it was deposed');
    expect(await historyEvents()).toEqual([]);
    // B holds the message too; once the lease is free again, the next holder appends it, once.
    b.sequencer.submit([message]);
    await admin.del(LEASE_KEY);
    await waitUntil(() => a.delivered.length === 1 && b.delivered.length === 1, 10_000, 'one delivery on each');
    await settled(a, b);
    expect(await historyEvents()).toEqual(['fenced']);
  });

  it('takes its lease again when it expired while Redis was away, staying the sequencer throughout', async () => {
    const a = await node({ ECHO_RELAY_RECOVERY_LEASE_MS: '300' }, true);
    let deposed = false;
    const watch = setInterval(() => (deposed ||= !a.sequencer.isSequencer), 5);
    try {
      // The failover lost the lease, or it ran out before the new master was reachable.
      await admin.del(LEASE_KEY);
      await waitUntil(async () => (await admin.get(LEASE_KEY)) !== null, 5000, 'the lease taken again');
      await sleep(300);
    } finally {
      clearInterval(watch);
    }
    expect(deposed).toBe(false);
  });

  it('appends nothing twice when an append failed with its connection but took effect: it waits for its catch-up', async () => {
    const a = await node({ ECHO_RELAY_RECOVERY_LEASE_MS: '300' }, true);
    const append = a.log.append.bind(a.log);
    let failed!: () => void;
    const failure = new Promise<void>((resolve) => (failed = resolve));
    let first = true;
    // The first append reaches Redis, but its answer is lost with the connection (the master died
    // after replicating it); the notification is lost too, since the feed is down.
    a.log.append = async (...args) => {
      const skipped = await append(...args);
      if (!first) return skipped;
      first = false;
      failed();
      throw new Error('Connection is closed.');
    };
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await waitUntil(() => !a.feed.subscribed, 5000, 'the notifications lost');
    a.sequencer.submit([laravelMessage('orders', 'first')]);
    await failure;
    a.sequencer.submit([laravelMessage('orders', 'second')]);

    await waitUntil(() => a.delivered.length >= 2, 5000, 'both broadcasts');
    await settled(a);
    expect(await historyEvents()).toEqual(['first', 'second']);
    expect(a.events()).toEqual(['first', 'second']);
  });

  it('appends, from the follower that got it, a broadcast the sequencer never received, before what came next', async () => {
    const a = await node({}, true);
    const b = await node();
    const first = laravelMessage('orders', 'first');
    a.sequencer.submit([first]);
    b.sequencer.submit([first]);
    await waitUntil(() => b.delivered.length === 1, 5000, 'the first delivery');

    // A Redis node died while writing `partial` to its subscribers: only B's subscription got it.
    const partial = laravelMessage('orders', 'partial');
    b.sequencer.submit([partial]);
    const rescueAfter = b.sequencer.rescueAfterMs;
    await sleep(rescueAfter / 2);
    expect(b.delivered).toHaveLength(1);
    await waitUntil(() => b.delivered.length === 2, 5000, 'the partial broadcast rescued');
    // What the app publishes next (after the Redis failover) comes after it, on every node.
    const next = laravelMessage('orders', 'next');
    a.sequencer.submit([next]);
    b.sequencer.submit([next]);
    await waitUntil(() => a.delivered.length === 3 && b.delivered.length === 3, 5000, 'three deliveries on each');
    await settled(a, b);
    expect(await historyEvents()).toEqual(['first', 'partial', 'next']);
    expect(a.events()).toEqual(['first', 'partial', 'next']);
    expect(b.events()).toEqual(['first', 'partial', 'next']);
    expect(await b.rescued()).toBe(1);
  });

  it("rescues nothing twice: not what the sequencer appended beyond the follower's position, not a copy the sequencer was appending", async () => {
    const a = await node({}, true);
    const b = await node();
    // A's append of `late` takes 2 s (a stalled sequencer); B rescues it meanwhile, and A's append,
    // when it arrives, skips it: A had received it before the rescue.
    const append = slowAppends(a, 2000);
    const late = laravelMessage('orders', 'late');
    a.sequencer.submit([late]);
    b.sequencer.submit([late]);
    await waitUntil(() => b.delivered.length === 1, 5000, 'the rescue');
    expect(await b.rescued()).toBe(1);
    await settled(a, b);
    await sleep(300);
    expect(await historyEvents()).toEqual(['late']);
    expect(a.events()).toEqual(['late']);
    a.log.append = append;

    // B holds `slow` while A's append of it is on its way: B's rescue finds it beyond its position.
    const slow = laravelMessage('orders', 'slow');
    const feedProcess = (b.feed as unknown as { process: (...args: unknown[]) => void }).process.bind(b.feed);
    let paused = true;
    const pausedBatches: unknown[][] = [];
    (b.feed as unknown as { process: (...args: unknown[]) => void }).process = (...args: unknown[]) => {
      if (paused) pausedBatches.push(args);
      else feedProcess(...args);
    };
    a.sequencer.submit([slow]);
    b.sequencer.submit([slow]);
    await waitUntil(() => a.delivered.length === 2, 5000, "A's append of slow");
    await sleep(b.sequencer.rescueAfterMs + 500);
    paused = false;
    for (const args of pausedBatches) feedProcess(...args);
    await settled(a, b);
    expect(await historyEvents()).toEqual(['late', 'slow']);
    expect(b.events()).toEqual(['late', 'slow']);
    expect(await b.rescued()).toBe(1);
  });

  it("does not rescue while the sequencer is busy appending what came before (a follower's oldest keeps moving)", async () => {
    const a = await node({}, true);
    const b = await node();
    // The sequencer's appends take a second each (a loaded Redis): broadcasts wait longer than the
    // rescue wait, but the oldest one held changes with every append.
    slowAppends(a, 1000);
    const events = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((n) => `m${n}`);
    for (const event of events) {
      const message = laravelMessage('orders', event);
      a.sequencer.submit([message]);
      b.sequencer.submit([message]);
      await sleep(250);
    }
    await waitUntil(() => b.delivered.length === events.length, 10_000, 'every delivery');
    await settled(a, b);
    expect(b.events()).toEqual(events);
    expect(await b.rescued()).toBe(0);
  });

  /** Records the number of broadcasts in each of `n`'s append calls. */
  function appendSizes(n: RecoveryNode): number[] {
    const sizes: number[] = [];
    const append = n.log.append.bind(n.log);
    n.log.append = (entries, ...rest) => {
      sizes.push(entries.length);
      return append(entries, ...rest);
    };
    return sizes;
  }

  it('appends what arrives within recovery.coalesceMs of the last append in one call, the first after a quiet spell at once', async () => {
    const a = await node({ ECHO_RELAY_RECOVERY_COALESCE_MS: '100' }, true);
    const sizes = appendSizes(a);
    a.sequencer.submit([laravelMessage('orders', 'first')]);
    // Nothing was appended for a while: the script call goes out from within `submit`.
    expect(sizes).toEqual([1]);
    await waitUntil(() => a.delivered.length === 1, 5000, 'the first broadcast');
    for (const event of ['second', 'third', 'fourth']) a.sequencer.submit([laravelMessage('orders', event)]);
    expect(sizes).toEqual([1]);
    await waitUntil(() => a.delivered.length === 4, 5000, 'the other three');
    expect(sizes).toEqual([1, 3]);
    expect(a.events()).toEqual(['first', 'second', 'third', 'fourth']);
  });

  it('appends what waits for the coalescing window at once when stopping, before handing the lease over', async () => {
    const a = await node({ ECHO_RELAY_RECOVERY_COALESCE_MS: '100' }, true);
    harness.forget(a);
    const sizes = appendSizes(a);
    a.sequencer.submit([laravelMessage('orders', 'first')]);
    await waitUntil(() => a.delivered.length === 1, 5000, 'the first broadcast');
    a.sequencer.submit([laravelMessage('orders', 'waiting')]);
    expect(sizes).toEqual([1]);
    await a.stop();
    expect(await historyEvents()).toEqual(['first', 'waiting']);
    expect(await admin.exists(LEASE_KEY)).toBe(0);
  });
});
