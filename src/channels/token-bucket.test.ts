import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst of `rate`, then refuses', () => {
    const bucket = new TokenBucket(10, 0);
    const taken = Array.from({ length: 12 }, () => bucket.take(0));
    assert.equal(taken.filter(Boolean).length, 10);
    assert.deepEqual(taken.slice(10), [false, false]);
  });

  it('refills at `rate` per second, never above the burst', () => {
    const bucket = new TokenBucket(10, 0);
    for (let i = 0; i < 10; i++) bucket.take(0);
    assert.equal(bucket.take(50), false, 'half a token after 50 ms');
    assert.equal(bucket.take(100), true, 'one token after 100 ms');
    let later = 0;
    while (bucket.take(60_000)) later++;
    assert.equal(later, 10);
  });

  it('does not mint tokens when the clock goes backwards', () => {
    const bucket = new TokenBucket(1, 1000);
    assert.equal(bucket.take(1000), true);
    assert.equal(bucket.take(0), false);
  });
});

describe('TokenBucket with a burst of its own', () => {
  it('allows `burst` at once, then refills at the rate up to the burst', () => {
    const bucket = new TokenBucket(100, 0, 5000);
    let taken = 0;
    while (bucket.take(0)) taken++;
    assert.equal(taken, 5000);
    assert.equal(bucket.take(9), false, 'nine tenths of a token after 9 ms');
    assert.equal(bucket.take(10), true, 'one token after 10 ms');
    let later = 0;
    while (bucket.take(3_600_000)) later++;
    assert.equal(later, 5000, 'an hour idle saves no more than the burst');
  });

  it('keeps the fraction of a token between takes in the same millisecond', () => {
    const bucket = new TokenBucket(1000, 0, 1);
    assert.equal(bucket.take(0), true);
    assert.equal(bucket.take(0), false);
    assert.equal(bucket.take(1), true, 'one per millisecond at 1000/s');
  });
});
