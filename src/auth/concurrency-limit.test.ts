import { describe, expect, it } from '@jest/globals';
import { ConcurrencyLimit } from './concurrency-limit.js';

/** A task that runs until the test settles it. */
function deferred(): { promise: Promise<string>; resolve(value: string): void; reject(err: Error): void } {
  let resolve!: (value: string) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<string>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyLimit', () => {
  it('runs at most max tasks at once, starts the others in the order they came, and reports the queue', async () => {
    const changes: number[] = [];
    const limit = new ConcurrencyLimit(2, (delta) => changes.push(delta));
    const tasks = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    const results = tasks.map((task, i) =>
      limit.run(() => {
        started.push(i);
        return task.promise;
      }),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    expect([limit.active, limit.queued]).toEqual([2, 3]);
    tasks[1].resolve('one');
    await flush();
    expect(started).toEqual([0, 1, 2]);
    const firstFails = expect(results[0]).rejects.toThrow('zero failed');
    tasks[0].reject(new Error('zero failed'));
    await flush();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const task of tasks.slice(2)) task.resolve('later');
    await firstFails;
    await expect(Promise.all(results.slice(1))).resolves.toEqual(['one', 'later', 'later', 'later']);
    expect([limit.active, limit.queued]).toEqual([0, 0]);
    expect(changes).toEqual([1, 1, 1, -1, -1, -1]);
  });

  it('takes an aborted waiter out of the queue, never runs it, and passes the slot to the next', async () => {
    const changes: number[] = [];
    const limit = new ConcurrencyLimit(1, (delta) => changes.push(delta));
    const first = deferred();
    const started: string[] = [];
    const running = limit.run(() => (started.push('first'), first.promise));
    const leaving = new AbortController();
    const gone = limit.run(() => (started.push('gone'), Promise.resolve('gone')), leaving.signal);
    const next = limit.run(() => (started.push('next'), Promise.resolve('next')));
    await flush();
    expect(limit.queued).toBe(2);
    const goneFails = expect(gone).rejects.toThrow();
    leaving.abort();
    await goneFails;
    expect(limit.queued).toBe(1);
    first.resolve('first');
    await expect(Promise.all([running, next])).resolves.toEqual(['first', 'next']);
    expect(started).toEqual(['first', 'next']);
    expect([limit.active, limit.queued]).toEqual([0, 0]);
    expect(changes).toEqual([1, 1, -1, -1]);
    // Already aborted: not even queued.
    await expect(limit.run(() => Promise.resolve('late'), leaving.signal)).rejects.toThrow();
    expect([limit.active, limit.queued]).toEqual([0, 0]);
  });

  it('refuses a limit below one', () => {
    expect(() => new ConcurrencyLimit(0)).toThrow(RangeError);
  });
});
