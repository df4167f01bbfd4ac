// @ts-check
// Per-target session: its own redis-server, publisher and temp dir; starts and
// stops the target server for each scenario and checks end-to-end readiness.

import { startRedis, createPublisher, makePad } from './redis.mjs';
import { freePort, sleep, makeTempDir, removeTempDir } from './proc.mjs';
import { waitEndToEnd } from './ready.mjs';

let stepCounter = 0;

/** Everything a scenario needs to drive one target. */
export class TargetSession {
  /**
   * @param {import('../targets/index.mjs').Target} target
   * @param {import('./config.mjs').BenchConfig} opts run options
   * @param {import('./loadgen.mjs').Loadgen} loadgen
   * @param {(line: string) => void} log
   * @param {number} deadline performance.now() value after which scenarios wind down
   */
  constructor(target, opts, loadgen, log, deadline) {
    this.target = target;
    this.opts = opts;
    this.loadgen = loadgen;
    this.log = log;
    this.deadline = deadline;
    this.pad = makePad(opts.dataBytes);
    /** @type {import('../targets/common.mjs').RunningServer|null} */
    this.server = null;
    this.port = 0;
    /** @type {string|undefined} temp dir, set by open() */
    this.dir = undefined;
    /** @type {Awaited<ReturnType<typeof startRedis>>|undefined} set by open() */
    this.redis = undefined;
    /** @type {import('ioredis').Redis|undefined} set by open() */
    this.publisher = undefined;
  }

  /** Start the target's redis-server and publisher. */
  async open() {
    this.dir = makeTempDir(`echo-bench-${this.target.name}-`);
    this.redis = await startRedis({ dir: this.dir });
    this.publisher = await createPublisher(this.redis.port);
  }

  /** Stop everything this session started and remove its temp dir. */
  async close() {
    if (this.server) await this.stopServer();
    this.publisher?.disconnect();
    await this.redis?.stop();
    if (this.dir) removeTempDir(this.dir);
  }

  /**
   * Start the target on a free port and wait until a published message reaches
   * a client speaking `eio`.
   * @param {import('./eio-client.mjs').ClientKind} eio
   * @param {{authHost?: string, authEndpoint?: string}} [extra] more start context (S4's auth stub)
   */
  async startServer(eio, extra = {}) {
    const { redis, publisher, dir } = this;
    if (!redis || !publisher || !dir) throw new Error('startServer() before open()');
    if (this.server) await this.stopServer();
    this.port = await freePort();
    const server = await this.target.start({ port: this.port, redisPort: redis.port, dir, ...extra }, this.opts);
    this.server = server;
    try {
      await waitEndToEnd({ port: this.port, eio, redis: publisher });
    } catch (err) {
      const tail = server.logTail();
      await this.stopServer();
      throw new Error(`${this.target.name} not delivering: ${/** @type {Error} */ (err).message}\n${tail}`, {
        cause: err,
      });
    }
  }

  /**
   * The running server with its redis-server and publisher, for a scenario between startServer() and stopServer().
   * @returns {{server: import('../targets/common.mjs').RunningServer, redis: {port: number, pid: number}, publisher: import('ioredis').Redis}}
   */
  live() {
    const { server, redis, publisher } = this;
    if (!server || !redis || !publisher) throw new Error(`${this.target.name}: no server running`);
    return { server, redis, publisher };
  }

  /** Stop the target server. */
  async stopServer() {
    const s = this.server;
    this.server = null;
    if (s) await s.stop();
    await sleep(200);
  }

  /** @returns {number} a step id unique in this run (0 is reserved for probes) */
  nextStep() {
    return ++stepCounter;
  }

  /** @returns {boolean} true once the run's time budget is spent */
  outOfTime() {
    return performance.now() > this.deadline;
  }
}
