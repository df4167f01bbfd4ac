import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { KeptSessionBudget } from './kept-session-budget.js';

const WINDOW = 8_000; // slots of 1 s

describe('KeptSessionBudget', () => {
  it('charges one address up to its budget, then refuses, without charging what it refused', () => {
    const budget = new KeptSessionBudget(1_000, WINDOW);
    assert.equal(budget.charge('a', 600, 0), true);
    assert.equal(budget.charge('a', 500, 0), false);
    assert.equal(budget.charge('a', 400, 0), true);
    assert.equal(budget.held('a', 0), 1_000);
    assert.equal(budget.charge('a', 1, 0), false);
  });

  it('counts every address on its own', () => {
    const budget = new KeptSessionBudget(1_000, WINDOW);
    assert.equal(budget.charge('a', 1_000, 0), true);
    assert.equal(budget.charge('b', 1_000, 0), true);
    assert.equal(budget.charge('a', 1, 0), false);
  });

  it('counts IPv6 clients by their /64: one host cannot spread its drops over its addresses', () => {
    const budget = new KeptSessionBudget(1_000, WINDOW);
    assert.equal(budget.charge('2001:db8:0:1::1', 600, 0), true);
    assert.equal(budget.charge('2001:db8:0:1::2', 500, 0), false);
    assert.equal(budget.held('2001:db8:0:1::abcd', 0), 600);
    assert.equal(budget.charge('2001:db8:0:2::1', 1_000, 0), true);
  });

  it('never lets a charge go before its session (windowMs after the write) expired', () => {
    const budget = new KeptSessionBudget(1_000, WINDOW);
    // Charged at the very end of slot 0: the session lives until 8,999 ms (plus the write's delay).
    assert.equal(budget.charge('a', 1_000, 999), true);
    for (const now of [1_000, 5_000, 8_999, 9_500, 9_999]) {
      assert.equal(budget.charge('a', 1, now), false, `still counted at ${now} ms`);
    }
    assert.equal(budget.held('a', 10_000), 0);
    assert.equal(budget.charge('a', 1_000, 10_000), true);
  });

  it('lets go of addresses whose charges all expired', () => {
    const budget = new KeptSessionBudget(1_000, WINDOW);
    for (let i = 0; i < 100; i++) budget.charge(`10.0.0.${i}`, 10, 0);
    assert.equal(budget.size, 100);
    budget.charge('b', 10, 20_000);
    assert.equal(budget.size, 1);
  });
});
