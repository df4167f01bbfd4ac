import { describe, expect, it } from '@jest/globals';
import { AdminLoginGate, type AdminLoginLimits } from './admin-login-gate.js';

const LIMITS: AdminLoginLimits = { checksAtOnce: 2, waiting: 3, failuresPerAddress: 5, windowMs: 60_000 };

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A gate on a clock the test moves, and checks the test settles (true: the password matched). */
function setup(limits: AdminLoginLimits = LIMITS): {
  gate: AdminLoginGate;
  clock: { now: number };
  started: string[];
  attempt: (address: string, matched?: boolean) => ReturnType<AdminLoginGate['attempt']>;
  settle: () => Promise<void>;
} {
  const clock = { now: 1_000_000 };
  const gate = new AdminLoginGate(
    limits,
    () => clock.now,
    () => Promise.resolve(),
  );
  const started: string[] = [];
  const running: (() => void)[] = [];
  return {
    gate,
    clock,
    started,
    attempt: (address, matched = false) =>
      gate.attempt(address, () => {
        started.push(address);
        return new Promise((resolve) => running.push(() => resolve(matched)));
      }),
    // Settles every check, those that start meanwhile included.
    settle: async () => {
      await flush();
      while (running.length > 0) {
        running.shift()!();
        await flush();
      }
    },
  };
}

describe('AdminLoginGate', () => {
  it('checks at most failuresPerAddress logins of an address at once or failed in its window, and refuses the rest unchecked', async () => {
    const { attempt, settle, started } = setup({ ...LIMITS, waiting: 100 });
    const results = Array.from({ length: 8 }, () => attempt('10.0.0.1'));
    expect(results).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      ...Array<string>(3).fill('too_many_failures'),
    ]);
    await settle();
    expect(started).toHaveLength(5);
    // The failed ones stay counted: even the right password is not checked from there.
    expect(attempt('10.0.0.1', true)).toBe('too_many_failures');
    // Another address is not held back by this one's failures.
    expect(attempt('10.0.0.2', true)).toBeUndefined();
    await settle();
    expect(started).toHaveLength(6);
  });

  it('counts IPv6 clients by their /64: failed logins from other addresses of the network count too', async () => {
    const { attempt, settle } = setup({ ...LIMITS, waiting: 100 });
    for (let i = 1; i <= 5; i++) expect(attempt(`2001:db8:0:1::${i}`)).toBeUndefined();
    await settle();
    expect(attempt('2001:db8:0:1::99', true)).toBe('too_many_failures');
    expect(attempt('2001:db8:0:2::1', true)).toBeUndefined();
    await settle();
  });

  it('checks the address again once the window from its first counted login has passed', async () => {
    const { attempt, settle, clock, started } = setup();
    for (let i = 0; i < 5; i++) expect(attempt('10.0.0.1')).toBeUndefined();
    await settle();
    clock.now += 59_999;
    expect(attempt('10.0.0.1', true)).toBe('too_many_failures');
    clock.now += 1;
    expect(attempt('10.0.0.1', true)).toBeUndefined();
    await settle();
    expect(started).toHaveLength(6);
  });

  it('gives a login whose password matched back to its address', async () => {
    const { attempt, settle } = setup();
    for (let i = 0; i < 4; i++) attempt('10.0.0.1');
    attempt('10.0.0.1', true);
    await settle();
    expect(attempt('10.0.0.1')).toBeUndefined();
    await settle();
    expect(attempt('10.0.0.1')).toBe('too_many_failures');
  });

  it('counts a check that rejects as failed', async () => {
    const gate = new AdminLoginGate({ ...LIMITS, failuresPerAddress: 1 }, Date.now, () => Promise.resolve());
    expect(gate.attempt('10.0.0.1', () => Promise.reject(new Error('Illegal arguments')))).toBeUndefined();
    await flush();
    expect(gate.attempt('10.0.0.1', () => Promise.resolve(true))).toBe('too_many_failures');
  });

  it('runs at most checksAtOnce checks of the node, lets waiting more wait, and refuses the others as busy', async () => {
    const { attempt, settle, started } = setup();
    const results = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((address) => attempt(address));
    expect(results).toEqual([undefined, undefined, undefined, undefined, undefined, 'busy', 'busy']);
    await flush();
    expect(started).toEqual(['a', 'b']);
    await settle();
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
    // A refusal for being busy counts against no address.
    for (let i = 0; i < 5; i++) expect(attempt('f')).toBeUndefined();
  });

  it('forgets addresses whose window has passed once it remembers many', async () => {
    const { gate, attempt, settle, clock } = setup({ ...LIMITS, waiting: 2000 });
    for (let i = 0; i < 1000; i++) attempt(`10.0.${i >> 8}.${i & 255}`);
    await settle();
    expect(gate.addresses).toBe(1000);
    clock.now += 60_000;
    attempt('10.9.9.9');
    expect(gate.addresses).toBe(1);
  });
});
