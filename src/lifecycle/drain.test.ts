import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { batchSchedule, closeInBatches } from './drain.js';

describe('batchSchedule', () => {
  it('puts every connection in exactly one batch, each in its own slot of the window', () => {
    for (const random of [() => 0, () => 0.5, () => 0.999]) {
      const schedule = batchSchedule(95, 300, 10, random);
      assert.equal(schedule.length, 10);
      assert.deepEqual(
        schedule.flatMap(({ from, to }) => Array.from({ length: to - from }, (_, k) => from + k)),
        Array.from({ length: 95 }, (_, k) => k),
      );
      schedule.forEach(({ at }, i) => {
        assert.ok(at >= i * 30 && at < (i + 1) * 30, `batch ${i} at ${at} ms, inside its slot`);
      });
    }
    // The first and the last batch are most of a window apart, whatever the jitter.
    const extremes = batchSchedule(95, 300, 10, () => 0.999);
    assert.ok(extremes[9].at - batchSchedule(95, 300, 10, () => 0)[0].at >= 270);
  });

  it('fewer full batches than asked: the batches there are share the whole window', () => {
    const schedule = batchSchedule(11, 300, 10, () => 0);
    assert.deepEqual(
      schedule.map(({ from, to, at }) => [from, to, at]),
      [
        [0, 2, 0],
        [2, 4, 50],
        [4, 6, 100],
        [6, 8, 150],
        [8, 10, 200],
        [10, 11, 250],
      ],
    );
  });

  it('fewer connections than batches: one batch each; no window: all at once', () => {
    assert.deepEqual(
      batchSchedule(3, 300, 10, () => 0).map(({ from, to }) => [from, to]),
      [
        [0, 1],
        [1, 2],
        [2, 3],
      ],
    );
    assert.deepEqual(batchSchedule(5, 0, 10), [
      { from: 0, to: 1, at: 0 },
      { from: 1, to: 2, at: 0 },
      { from: 2, to: 3, at: 0 },
      { from: 3, to: 4, at: 0 },
      { from: 4, to: 5, at: 0 },
    ]);
    assert.deepEqual(batchSchedule(0, 300), []);
  });
});

describe('closeInBatches', () => {
  it('closes every connection once, on real timers', async () => {
    const closed = new Map<number, number>();
    const connections = Array.from({ length: 95 }, (_, i) => ({
      close: () => closed.set(i, (closed.get(i) ?? 0) + 1),
    }));
    await closeInBatches(connections, 300, 10);
    assert.equal(closed.size, 95);
    assert.ok([...closed.values()].every((times) => times === 1));
  });

  it('closes at once without a window, and copes with no connections', async () => {
    let closed = 0;
    await closeInBatches([{ close: () => closed++ }, { close: () => closed++ }], 0);
    assert.equal(closed, 2);
    await closeInBatches([], 1000);
  });
});
