import { describe, expect, it } from '@jest/globals';
import { compareOffsets, isOffset, START } from './offsets.js';

describe('compareOffsets', () => {
  it('orders offsets as Redis orders stream ids: by milliseconds, then by sequence, numerically', () => {
    const sorted = [
      '0-0',
      '0-1',
      '9-0',
      '10-0',
      '10-2',
      '10-10',
      '1732999999999-0',
      '1733000000000-0',
      '1733000000000-12',
    ];
    for (let i = 0; i < sorted.length; i++) {
      for (let j = 0; j < sorted.length; j++) {
        expect(Math.sign(compareOffsets(sorted[i], sorted[j]))).toBe(Math.sign(i - j));
      }
    }
  });

  it('puts START before every offset echo-relay hands out', () => {
    expect(isOffset(START)).toBe(true);
    expect(compareOffsets(START, '1-0')).toBeLessThan(0);
    expect(compareOffsets('0-1', START)).toBeGreaterThan(0);
  });
});
