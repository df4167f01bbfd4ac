import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { closeInBatches } from './drain.js';

describe('closeInBatches', () => {
  it('closes every connection once, spread over the window', async () => {
    const closedAt: number[] = [];
    const start = Date.now();
    const connections = Array.from({ length: 95 }, () => ({ close: () => closedAt.push(Date.now() - start) }));
    await closeInBatches(connections, 300, 10);
    assert.equal(closedAt.length, 95);
    const spread = Math.max(...closedAt) - Math.min(...closedAt);
    assert.ok(spread >= 100, `closings are spread out (saw ${spread} ms)`);
    assert.ok(Math.max(...closedAt) < 600, 'and finish within the window');
  });

  it('closes at once without a window, and copes with no connections', async () => {
    let closed = 0;
    await closeInBatches([{ close: () => closed++ }, { close: () => closed++ }], 0);
    assert.equal(closed, 2);
    await closeInBatches([], 1000);
  });
});
