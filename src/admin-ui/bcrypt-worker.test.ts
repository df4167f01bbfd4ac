import { afterEach, describe, expect, it } from '@jest/globals';
import bcrypt from 'bcryptjs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { BcryptWorker } from './bcrypt-worker.js';

const HASH = bcrypt.hashSync('s3cret', 4);

/** The worker thread itself, to end it as a crash would. */
function threadOf(bcryptWorker: BcryptWorker): Worker {
  return (bcryptWorker as unknown as { running: { worker: Worker } }).running.worker;
}

describe('BcryptWorker', () => {
  const opened: BcryptWorker[] = [];
  const open = (): BcryptWorker => {
    const worker = new BcryptWorker();
    opened.push(worker);
    return worker;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((worker) => worker.close()));
  });

  it('starts one worker at the first comparison and answers each on it', async () => {
    const worker = open();
    expect(worker.started).toBe(false);
    const first = worker.compare('s3cret', HASH);
    const thread = threadOf(worker);
    await expect(Promise.all([first, worker.compare('wrong', HASH), worker.compare('s3cret', HASH)])).resolves.toEqual([
      true,
      false,
      true,
    ]);
    expect(threadOf(worker)).toBe(thread);
    // bcrypt reads a $2y$ hash (htpasswd -B) as $2b$.
    await expect(worker.compare('s3cret', HASH.replace(/^\$2[ab]\$/, '$2y$'))).resolves.toBe(true);
  });

  it("rejects what bcrypt refuses, with bcrypt's reason, and goes on", async () => {
    const worker = open();
    await expect(worker.compare('s3cret', HASH.replace(/^\$2a\$04/, '$2a$99'))).rejects.toThrow(
      'bcrypt refused the comparison: Illegal number of rounds (4-31): 99',
    );
    await expect(worker.compare(5 as unknown as string, HASH)).rejects.toThrow(
      'bcrypt refused the comparison: Illegal arguments: number, string',
    );
    await expect(worker.compare('s3cret', HASH)).resolves.toBe(true);
  });

  it('rejects the comparisons a failed worker had not answered, saying so, and starts another for the next', async () => {
    const worker = open();
    await worker.compare('s3cret', HASH);
    const thread = threadOf(worker);
    const pending = worker.compare('s3cret', bcrypt.hashSync('s3cret', 12));
    await thread.terminate();
    await expect(pending).rejects.toThrow('the password check worker stopped (exit code 1)');
    expect(worker.started).toBe(false);
    await expect(worker.compare('s3cret', HASH)).resolves.toBe(true);
    expect(threadOf(worker)).not.toBe(thread);
  });

  it('ends the worker on close, and refuses comparisons from there', async () => {
    const worker = open();
    await worker.compare('s3cret', HASH);
    const exited = new Promise((resolve) => threadOf(worker).once('exit', resolve));
    await worker.close();
    await exited;
    await expect(worker.compare('s3cret', HASH)).rejects.toThrow(
      'the password check worker is stopped: the node is shutting down',
    );
  });

  it('does not keep a process alive once idle', async () => {
    // A process that compares once and never closes the worker: it ends by itself.
    const script = `
      import { BcryptWorker } from ${JSON.stringify(new URL('./bcrypt-worker.js', import.meta.url).href)};
      console.log(await new BcryptWorker().compare('s3cret', ${JSON.stringify(HASH)}));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 20_000,
    });
    expect(stdout.trim()).toBe('true');
  });
});
