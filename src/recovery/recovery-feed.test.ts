import { beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { waitUntil } from '../../test/support/ports.js';
import { useRecoveryRedis } from '../../test/support/recovery-node.js';
import { START, type Offset } from './offsets.js';
import { recoveryKeys, type HistoryEntry, type PendingEntry } from './recovery-log.js';

const { history: HISTORY_KEY, lease: LEASE_KEY, notify: NOTIFY_CHANNEL, rescued: RESCUED_KEY } = recoveryKeys('');
import { APPEND_SCRIPT } from './recovery-scripts.js';

function entry(channel: string, event: string): PendingEntry {
  const history: HistoryEntry = { c: channel, e: event, d: {}, s: null };
  return { channel, json: JSON.stringify(history) };
}

// The recovery keys are fixed: this spec has a Redis of its own, emptied per test.
describe('RecoveryFeed', () => {
  const harness = useRecoveryRedis();
  const { node } = harness;
  let admin: Redis;
  beforeAll(() => {
    admin = harness.admin();
  });

  async function ids(): Promise<Offset[]> {
    return ((await admin.xrange(HISTORY_KEY, '-', '+')) as [string, string[]][]).map(([id]) => id);
  }

  it('starts at the newest entry and advances its position with every entry it delivers, each once', async () => {
    const before = harness.create();
    expect(before.feed.position).toBeUndefined();
    await before.log.append([entry('orders', 'old')]);
    before.start();
    await waitUntil(() => before.feed.subscribed, 5000, 'the recovery notifications');
    const [old] = await ids();
    // What was appended before this node ran is not delivered: its sockets connected after it.
    expect(before.feed.position).toBe(old);
    expect(before.delivered).toEqual([]);

    await before.log.append([entry('orders', 'a'), entry('shipments', 'b')]);
    await waitUntil(() => before.delivered.length === 2, 5000, 'two deliveries');
    const all = await ids();
    expect(before.delivered.map((d) => [d.offset, d.channel, d.event])).toEqual([
      [all[1], 'orders', 'a'],
      [all[2], 'shipments', 'b'],
    ]);
    expect(before.feed.position).toBe(all[2]);

    // A notification seen twice (or read from the history, then notified) is delivered once.
    const again = JSON.stringify([[all[2], JSON.parse(entry('shipments', 'b').json) as HistoryEntry]]);
    await admin.publish(NOTIFY_CHANNEL, again);
    await admin.publish(NOTIFY_CHANNEL, 'not json');
    await before.log.append([entry('orders', 'c')]);
    await waitUntil(() => before.delivered.length === 3, 5000, 'a third delivery');
    expect(before.events()).toEqual(['a', 'b', 'c']);
  });

  it('delivers what a new master appends behind its position: a failover lost the last entries, its clock is behind', async () => {
    // The old master's last entry, which this node delivered, carries an offset an hour ahead of
    // the new master's clock; the failover lost it.
    const ahead = `${Date.now() + 3_600_000}-0`;
    await admin.xadd(HISTORY_KEY, ahead, 'c', 'orders', 'b', entry('orders', 'lost').json);
    const a = await node();
    expect(a.feed.position).toBe(ahead);
    await admin.del(HISTORY_KEY);

    await a.log.append([entry('orders', 'after'), entry('orders', 'next')]);
    await waitUntil(() => a.delivered.length === 2, 5000, 'the entries appended after the failover');
    const all = await ids();
    expect(a.delivered.map((d) => [d.offset, d.event])).toEqual([
      [all[0], 'after'],
      [all[1], 'next'],
    ]);
    expect(a.feed.position).toBe(all[1]);
  });

  it('starts at the start position on an empty history', async () => {
    const fresh = await node();
    expect(fresh.feed.position).toBe(START);
    await fresh.log.append([entry('orders', 'a')]);
    await waitUntil(() => fresh.delivered.length === 1, 5000, 'one delivery');
    expect(fresh.feed.position).toBe((await ids())[0]);
  });

  it('since(offset): what it delivered after offset, oldest first, while memory reaches back that far', async () => {
    const n = await node();
    await n.log.append([entry('orders', 'a'), entry('orders', 'b'), entry('shipments', 'c')]);
    await waitUntil(() => n.delivered.length === 3, 5000, 'three deliveries');
    const [a, b, c] = await ids();

    expect(n.feed.since(a)?.map(([offset, e]) => [offset, e.e])).toEqual([
      [b, 'b'],
      [c, 'c'],
    ]);
    expect(n.feed.since(c)).toEqual([]);
    // From where it started (nothing before it was delivered here), everything.
    expect(n.feed.since(START)?.map(([offset]) => offset)).toEqual([a, b, c]);
  });

  it('since(offset) is undefined for an offset from before the node started: it cannot know what lies between', async () => {
    const seed = harness.create();
    await seed.log.append([entry('orders', 'x'), entry('orders', 'y')]);
    const [x] = await ids();
    const n = await node();
    await n.log.append([entry('orders', 'z')]);
    await waitUntil(() => n.delivered.length === 1, 5000, 'one delivery');
    expect(n.feed.since(x)).toBeUndefined();
  });

  it('reach(offset): resolves once the node delivered that far, with the whole batch delivered; false after the wait', async () => {
    const a = await node();
    await a.log.append([entry('orders', 'one')]);
    await waitUntil(() => a.delivered.length === 1, 5000, 'the first entry');
    const [first] = await ids();
    expect(await a.feed.reach(first, 10)).toBe(true);
    // An offset the node has not delivered yet: reached when the batch holding it arrives.
    const [ms, seq] = first.split('-').map(Number);
    const ahead = `${ms}-${seq + 1}`;
    const reached = a.feed.reach(ahead, 5000).then((ok) => ({ ok, delivered: a.delivered.length }));
    await a.log.append([entry('orders', 'two'), entry('orders', 'three')]);
    await expect(reached).resolves.toEqual({ ok: true, delivered: 3 });
    expect(await a.feed.reach(`${ms + 3_600_000}-0`, 50)).toBe(false);
  });

  it('ignores what it cannot read on the notification channel (anyone may PUBLISH there) and delivers what follows', async () => {
    const n = await node();
    const junk = ['not json', '{"a":1}', '[["1-0"', '', '[["x",null]]', '[["1-0",null],[2]]', '[["1-0",{"e":1}]]'];
    for (const message of junk) await harness.admin().publish(NOTIFY_CHANNEL, message);
    await n.log.append([entry('orders', 'after')]);
    await waitUntil(() => n.delivered.length === 1, 5000, 'the entry after the junk');
    expect(n.events()).toEqual(['after']);
    expect(n.feed.subscribed).toBe(true);
  });

  it('catches up from the history after its subscription is killed: what was appended meanwhile arrives once, in order', async () => {
    const n = await node();
    await n.log.append([entry('orders', 'a')]);
    await waitUntil(() => n.delivered.length === 1, 5000, 'the first delivery');

    const reads = jest.spyOn(n.log, 'after');
    const clients = await admin.client('LIST');
    const id = /id=(\d+) [^\n]*name=echo-relay:recovery-sub /.exec(String(clients))?.[1];
    expect(id).toBeDefined();
    // One transaction: the subscriber is closed before the append's notification could reach it
    // (Redis writes nothing more to a client it is closing), so only the history has them.
    await admin
      .multi()
      .client('KILL', 'ID', id!)
      .eval(APPEND_SCRIPT, 1, HISTORY_KEY, ...appendArgs(entry('orders', 'b')))
      .eval(APPEND_SCRIPT, 1, HISTORY_KEY, ...appendArgs(entry('shipments', 'c')))
      .exec();
    await waitUntil(() => n.delivered.length === 3, 5000, 'the missed entries');
    await waitUntil(() => n.feed.subscribed, 5000, 'the notifications again');
    // Read from the history on resubscribing, from the position it had delivered.
    expect(reads.mock.calls[0]?.[0]).toBe(n.delivered[0].offset);
    const read = (await reads.mock.results[0]?.value) as [Offset, HistoryEntry][];
    expect(read.map(([, e]) => e.e)).toEqual(['b', 'c']);

    await n.log.append([entry('orders', 'd')]);
    await waitUntil(() => n.delivered.length === 4, 5000, 'the next delivery');
    expect(n.delivered.map((d) => d.offset)).toEqual(await ids());
    expect(n.events()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a notification lost while its subscription stayed up: the next one shows the gap, and the history fills it in order', async () => {
    const n = await node();
    await n.log.append([entry('orders', 'a')]);
    await waitUntil(() => n.delivered.length === 1, 5000, 'the first delivery');
    // In the history, never notified here: a Cluster master that died after writing the
    // notification to its own subscribers and before passing it on over the Cluster bus.
    for (const lost of [entry('orders', 'b'), entry('shipments', 'c')]) {
      await admin.xadd(HISTORY_KEY, '*', 'c', lost.channel, 'b', lost.json);
    }

    await n.log.append([entry('orders', 'd')]);

    await waitUntil(() => n.delivered.length === 4, 5000, 'the lost entries and the next one');
    expect(n.events()).toEqual(['a', 'b', 'c', 'd']);
    expect(n.delivered.map((d) => d.offset)).toEqual(await ids());
    await n.log.append([entry('orders', 'e')]);
    await waitUntil(() => n.delivered.length === 5, 5000, 'the next delivery');
    expect(n.events()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

/** The append script's arguments for one unfenced entry, as `RecoveryLog.append` passes them. */
let appendCalls = 0;
function appendArgs({ channel, json }: PendingEntry): string[] {
  const call = recoveryKeys('').call(`feed-spec:${++appendCalls}`);
  return [LEASE_KEY, '', '10000', NOTIFY_CHANNEL, '240000', RESCUED_KEY, '', call, channel, json];
}
