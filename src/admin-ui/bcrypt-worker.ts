import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker's code, as text run with `eval`: it needs no file of its own beside the bundle
 * (dist/echo-relay-server.mjs) or tsc's output, and esbuild leaves a string alone, where it would
 * add the bundle's own helpers (`__name`) to a function's source. It has no `import` or `require`:
 * the worker inherits the process's flags, and `--input-type=module` makes eval'd code a module,
 * without `require`. It is handed bcryptjs's path: eval'd code resolves packages from the working
 * directory.
 */
const SOURCE = `
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
const bcrypt = process.getBuiltinModule('node:module').createRequire(workerData.bcryptjs)(workerData.bcryptjs);
parentPort.on('message', ({ id, password, hash }) => {
  try {
    parentPort.postMessage({ id, matched: bcrypt.compareSync(password, hash) });
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

interface Reply {
  id: number;
  matched?: boolean;
  error?: string;
}

interface Waiting {
  resolve: (matched: boolean) => void;
  reject: (err: Error) => void;
}

/** A started worker and the comparisons it has not answered yet. */
interface Running {
  worker: Worker;
  pending: Map<number, Waiting>;
}

/**
 * bcrypt comparisons on a worker thread: bcryptjs computes on the thread that calls it, and on the
 * event loop each Admin UI login held every socket of the node for 0.1 s or more. One worker,
 * started at the first comparison and reused; idle, it does not keep the process alive. A worker
 * that fails rejects what it had not answered, with the reason, and the next comparison starts
 * another.
 */
export class BcryptWorker {
  private running?: Running;
  private lastId = 0;
  private closed = false;

  /** Whether `password` matches the bcrypt `hash`; rejects when the worker cannot answer. */
  compare(password: string, hash: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('the password check worker is stopped: the node is shutting down'));
      let running: Running;
      try {
        running = this.running ??= this.start();
      } catch (err) {
        return reject(new Error(`could not start the password check worker: ${(err as Error).message}`));
      }
      const id = ++this.lastId;
      running.pending.set(id, { resolve, reject });
      running.worker.ref();
      running.worker.postMessage({ id, password, hash });
    });
  }

  /** Whether a worker is running (for tests). */
  get started(): boolean {
    return this.running !== undefined;
  }

  /** Ends the worker, if one was started; comparisons after this are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const running = this.running;
    this.running = undefined;
    if (running) await running.worker.terminate();
  }

  private start(): Running {
    const bcryptjs = createRequire(import.meta.url).resolve('bcryptjs');
    const worker = new Worker(SOURCE, { eval: true, workerData: { bcryptjs }, name: 'admin-ui password check' });
    const running: Running = { worker, pending: new Map() };
    worker.on('message', (reply: Reply) => {
      const waiting = running.pending.get(reply.id);
      if (!waiting) return;
      running.pending.delete(reply.id);
      if (running.pending.size === 0) worker.unref();
      if (reply.error === undefined) waiting.resolve(reply.matched === true);
      else waiting.reject(new Error(`bcrypt refused the comparison: ${reply.error}`));
    });
    // Listened to, a worker's error does not end the process: it ends the worker, then `exit` follows.
    worker.on('error', (err) => this.stopped(running, `failed: ${err.message}`));
    worker.on('exit', (code) => this.stopped(running, `stopped (exit code ${code})`));
    // Held while it has comparisons to answer only (`compare`): an idle worker keeps no process
    // alive. After the listeners: adding a `message` listener holds it again.
    worker.unref();
    return running;
  }

  private stopped(running: Running, what: string): void {
    if (this.running === running) this.running = undefined;
    for (const waiting of running.pending.values()) waiting.reject(new Error(`the password check worker ${what}`));
    running.pending.clear();
  }
}
