import { describe, expect, it } from '@jest/globals';
import { MessageMerger } from './message-merger.js';

/** A merger on a clock the spec moves. */
function merger(windowMs = 1000): { merge: MessageMerger; advance: (ms: number) => void } {
  let now = 0;
  return { merge: new MessageMerger(windowMs, () => now), advance: (ms) => (now += ms) };
}

const msg = (text: string): Buffer => Buffer.from(text);

/** Feeds `[stream, channel, text]` copies in arrival order; returns the texts delivered. */
function feed(merge: MessageMerger, copies: [number, string, string][]): string[] {
  return copies.filter(([stream, channel, text]) => merge.accept(stream, channel, msg(text))).map(([, , t]) => t);
}

describe('MessageMerger', () => {
  it('delivers each message of two subscriptions carrying the same stream once, on its first arrival', () => {
    const { merge } = merger();
    const delivered = feed(merge, [
      [0, 'orders', 'a'],
      [1, 'orders', 'a'],
      [0, 'orders', 'b'],
      [0, 'orders', 'c'],
      [1, 'orders', 'b'],
      [1, 'orders', 'c'],
      [1, 'orders', 'd'],
      [0, 'orders', 'd'],
    ]);
    expect(delivered).toEqual(['a', 'b', 'c', 'd']);
  });

  it('delivers a message that Laravel published twice twice, however the copies interleave', () => {
    const { merge } = merger();
    const delivered = feed(merge, [
      [0, 'orders', 'same'],
      [0, 'orders', 'same'],
      [1, 'orders', 'same'],
      [1, 'orders', 'same'],
      [1, 'orders', 'same'],
      [0, 'orders', 'same'],
    ]);
    expect(delivered).toEqual(['same', 'same', 'same']);
  });

  it('delivers what one subscription missed from the other, and nothing twice when the first comes back', () => {
    const { merge } = merger();
    // Stream 0 dies after `a`; stream 1 carries on; stream 2 is stream 0 re-made later.
    const delivered = feed(merge, [
      [0, 'orders', 'a'],
      [1, 'orders', 'a'],
      [1, 'orders', 'b'],
      [1, 'orders', 'c'],
      [2, 'orders', 'c'],
      [2, 'orders', 'd'],
      [1, 'orders', 'd'],
    ]);
    expect(delivered).toEqual(['a', 'b', 'c', 'd']);
  });

  it('tells messages apart by channel as well as by bytes', () => {
    const { merge } = merger();
    const delivered = feed(merge, [
      [0, 'orders', 'x'],
      [0, 'users', 'x'],
      [1, 'users', 'x'],
      [1, 'orders', 'x'],
    ]);
    expect(delivered).toEqual(['x', 'x']);
  });

  it('forgets a message once the window after its first arrival has passed, so memory stays bounded', () => {
    const { merge, advance } = merger(1000);
    expect(merge.accept(0, 'orders', msg('a'))).toBe(true);
    advance(500);
    expect(merge.accept(0, 'orders', msg('b'))).toBe(true);
    expect(merge.size).toBe(2);
    advance(600);
    // `a` is forgotten: a copy this late counts as a new message (the documented limit).
    expect(merge.accept(1, 'orders', msg('a'))).toBe(true);
    expect(merge.accept(1, 'orders', msg('b'))).toBe(false);
    advance(1001);
    merge.accept(0, 'orders', msg('c'));
    expect(merge.size).toBe(1);
  });
});
