import { afterAll, afterEach, beforeAll, expect } from '@jest/globals';
import type { PlainObject } from '../../src/common/plain-object.js';
import { connected, createEcho, type ClientVersion, type TestEcho } from './echo-client.js';
import { ApiClient } from './http-api.js';
import { LaravelAuthStub, type StubUser } from './laravel-auth-stub.js';
import { LaravelPublisher } from './laravel-publisher.js';
import { sleep } from './ports.js';
import { startRedisSetup, type RedisKind, type RedisSetup } from './redis-topologies.js';
import type { TestRedis } from './redis-server.js';
import { killRelay, spawnRelay, type RelayProcess } from './relay-process.js';
import { startReadyRelay, startRelay, type TestRelay } from './relay.js';

/** What one e2e suite runs against. Everything it starts is stopped by `stop()`. */
export interface FixtureOptions {
  /** The Redis topology. @default 'single' */
  redis?: RedisKind | 'none';
  /** How many echo-relay nodes to start in this process, each on its own free port. @default 1 */
  nodes?: number;
  /** Env for every node, on top of the Redis env (and `ECHO_RELAY_AUTH_HOST` with `auth`). @default {} */
  env?: Record<string, string>;
  /** Config deep-merged over what the env gives, for every node. @default undefined */
  overrides?: PlainObject;
  /** Laravel's key prefix: sets `REDIS_PREFIX` for the nodes and prefixes the publisher. @default '' (unset) */
  prefix?: string;
  /** Starts a Laravel auth stub knowing these users (bearer token or session → user). @default undefined */
  auth?: Record<string, StubUser>;
  /** Waits for each node's `/ready` (its Redis subscription) before the suite runs. @default true */
  ready?: boolean;
}

/** Options of one Echo client: which socket.io client, which node, and socket.io/Echo options. */
export interface EchoOptions {
  /** @default 4 */
  version?: ClientVersion;
  /** A node or a URL. @default the first node */
  on?: TestRelay | string;
  /** Sent as `Authorization: Bearer <token>` with every auth request. @default none */
  token?: string;
  /** Passed to `new Echo()` (and so to socket.io's `io()`). @default {} */
  client?: Record<string, unknown>;
}

/**
 * Redis, echo-relay nodes, an optional Laravel auth stub, a Laravel publisher and Echo clients for
 * one suite. `start()` keeps a cleanup stack from its first step, so `stop()` undoes exactly what
 * was started, even when setup failed half-way. Echo clients opened inside a test are disconnected
 * after that test (`afterEachTest()`), those opened in a `beforeAll` with the suite.
 */
export class Fixture {
  private readonly cleanup: (() => Promise<void> | void)[] = [];
  private readonly testClients: TestEcho[] = [];
  private redisSetup?: RedisSetup;
  private authStub?: LaravelAuthStub;
  private publisher?: LaravelPublisher;
  /** Every node started, in order (including those of `startNode`). */
  readonly nodes: TestRelay[] = [];

  constructor(readonly options: FixtureOptions = {}) {}

  /** The first node. */
  get relay(): TestRelay {
    return this.nodes[0] ?? fail('no relay started');
  }

  get redis(): RedisSetup {
    return this.redisSetup ?? fail('no Redis started');
  }

  /** The single redis-server, to stop and start (single Redis only). */
  get server(): TestRedis {
    return this.redis.server ?? fail(`a ${this.redis.kind} Redis has no single server to control`);
  }

  get app(): LaravelAuthStub {
    return this.authStub ?? fail('no auth stub: pass `auth` to the fixture');
  }

  /** Env that points a further node (or a child process) at the same Redis, prefix and app. */
  get env(): Record<string, string> {
    const { prefix, env } = this.options;
    return {
      ...this.redisSetup?.env,
      ...(prefix === undefined ? {} : { REDIS_PREFIX: prefix }),
      ...(this.authStub ? { ECHO_RELAY_AUTH_HOST: this.authStub.url } : {}),
      ...env,
    };
  }

  /** A Laravel app publishing through the suite's Redis with the suite's prefix; opened on first use. */
  get laravel(): LaravelPublisher {
    return (this.publisher ??= this.publishTo(this.redis.url, this.options.prefix ?? ''));
  }

  async start(): Promise<this> {
    const { redis = 'single', nodes = 1, auth } = this.options;
    if (redis !== 'none') {
      this.redisSetup = await startRedisSetup(redis);
      this.defer(() => this.redisSetup?.close());
    }
    if (auth) {
      this.authStub = await LaravelAuthStub.start();
      this.defer(() => this.authStub?.close());
      for (const [token, user] of Object.entries(auth)) this.authStub.users.set(token, user);
    }
    for (let i = 0; i < nodes; i++) await this.startNode();
    return this;
  }

  /** Starts one more node on the suite's setup (`env` and `overrides` on top); stopped with the suite. */
  async startNode(options: { env?: Record<string, string>; overrides?: PlainObject } = {}): Promise<TestRelay> {
    const start = this.options.ready === false ? startRelay : startReadyRelay;
    const relay = await start({
      env: { ...this.env, ...options.env },
      overrides: options.overrides ?? this.options.overrides,
    });
    this.nodes.push(relay);
    this.defer(() => relay.stop());
    return relay;
  }

  /** echo-relay in a child process (`node dist/echo-relay.mjs`), on the suite's setup unless `env` says otherwise. */
  spawnNode(options: Parameters<typeof spawnRelay>[0] = {}): RelayProcess {
    const child = spawnRelay({ ...options, env: { ...this.env, ...options.env } });
    this.defer(() => killRelay(child));
    return child;
  }

  /** A further Laravel publisher (another node, another prefix), closed with the suite. */
  publishTo(url: string, prefix = this.options.prefix ?? ''): LaravelPublisher {
    const publisher = new LaravelPublisher(url, prefix);
    this.defer(() => publisher.close());
    return publisher;
  }

  /** The HTTP API of node `i` for an app of `ECHO_RELAY_CLIENTS`/`api.clients`. */
  api(appId: string, key: string, i = 0): ApiClient {
    return new ApiClient(this.nodes[i].apiUrl, appId, key);
  }

  /** An Echo client, not yet connected (attach listeners first); closed with its test or suite. */
  client(options: EchoOptions = {}): TestEcho {
    const { version = 4, on = this.relay, token, client = {} } = options;
    const auth = token === undefined ? {} : { auth: { headers: { Authorization: `Bearer ${token}` } } };
    const echo = createEcho(typeof on === 'string' ? on : on.url, version, { ...auth, ...client });
    if (expect.getState().currentTestName === undefined) this.defer(() => echo.disconnect());
    else this.testClients.push(echo);
    return echo;
  }

  /** An Echo client, connected. */
  async echo(options: EchoOptions = {}): Promise<TestEcho> {
    const echo = this.client(options);
    await connected(echo);
    return echo;
  }

  /** A connected Echo client sending `Authorization: Bearer <token>`, as a logged-in user's page. */
  echoAs(token: string, options: Omit<EchoOptions, 'token'> = {}): Promise<TestEcho> {
    return this.echo({ ...options, token });
  }

  /** A connected Echo client that subscribed to the public `channel` (Echo sends it on connect). */
  async echoOn(channel: string, options: EchoOptions = {}): Promise<TestEcho> {
    const echo = this.client(options);
    echo.channel(channel);
    await connected(echo);
    return echo;
  }

  /** Disconnects the clients the current test opened. */
  closeTestClients(): void {
    this.testClients.splice(0).forEach((echo) => echo.disconnect());
  }

  /** Runs `step` when the suite stops (last deferred, first run). */
  defer(step: () => Promise<void> | void): void {
    this.cleanup.push(step);
  }

  /** Undoes everything, newest first; every step runs even if one fails, and the first failure is thrown. */
  async stop(): Promise<void> {
    this.closeTestClients();
    const failures: unknown[] = [];
    for (const step of this.cleanup.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length > 0) throw failures[0];
    await settled();
  }
}

/**
 * Registers the fixture's hooks in the enclosing `describe`: start in `beforeAll`, close the test's
 * clients in `afterEach`, stop in `afterAll`. Read its fields inside hooks and tests only.
 */
export function useFixture(options: FixtureOptions = {}): Fixture {
  const fx = new Fixture(options);
  beforeAll(() => fx.start());
  afterEach(() => fx.closeTestClients());
  afterAll(() => fx.stop());
  return fx;
}

/** Resources a stopped suite may still be closing: sockets ending, child processes being reaped. */
const CLOSING = new Set(['TCPSocketWrap', 'TCPServerWrap', 'ConnectWrap', 'SimpleShutdownWrap', 'ProcessWrap']);

/**
 * Resolves once the sockets and processes the suite closed are gone (at most 2 s). Closing is
 * asynchronous: a socket ending or a killed redis-server still holds the worker for a moment, and
 * on a loaded machine that moment outlasts Jest's 500 ms grace for the last file of a worker. A
 * real leak still outlives this wait and is still reported by Jest.
 */
async function settled(): Promise<void> {
  const deadline = Date.now() + 2000;
  while (process.getActiveResourcesInfo().some((r) => CLOSING.has(r)) && Date.now() < deadline) await sleep(20);
}

function fail(message: string): never {
  throw new Error(`fixture: ${message}`);
}
