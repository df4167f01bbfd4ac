import { Cluster, Redis } from 'ioredis';
import { BROADCAST_SCRIPT, phpJsonEncode } from './laravel-publisher.js';
import { sleep, waitUntil } from './ports.js';
import { call, SENTINEL_MASTER, type RedisSetup } from './redis-topologies.js';

/** The name every Laravel subscription of echo-relay gives its connection (`CLIENT SETNAME`). */
export const SUBSCRIBER_NAME = 'echo-relay:subscriber';

/** One line of `CLUSTER NODES`. */
export interface ClusterNode {
  id: string;
  /** `host:port` (the cluster bus port dropped). */
  address: string;
  master: boolean;
  /** The master's id, for a replica. */
  masterOf?: string;
  /** Flagged `fail` (or `fail?`) by the node that was asked. */
  failed: boolean;
  /** Slot ranges served, `[first, last]`. */
  slots: [number, number][];
}

/** `host:port` of the master the sentinels name now (the first sentinel that answers). */
export async function currentMaster(setup: RedisSetup): Promise<string> {
  for (const sentinel of setup.sentinels) {
    try {
      const [host, port] = (await call(sentinel, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER)) as string[];
      return `${host}:${port}`;
    } catch {
      // that sentinel is not answering: ask the next
    }
  }
  throw new Error('no sentinel answered');
}

/** The Cluster as `CLUSTER NODES` on the first live data node describes it. */
export async function clusterNodes(setup: RedisSetup, on = setup.live()[0]): Promise<ClusterNode[]> {
  const text = String(await call(on, 'CLUSTER', 'NODES'));
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.split(' ');
      return {
        id,
        address: address.split('@')[0],
        master: flags.split(',').includes('master'),
        masterOf: masterId === '-' ? undefined : masterId,
        failed: /(^|,)fail\??(,|$)/.test(flags),
        slots: slots.filter((s) => !s.startsWith('[')).map((s) => slotRange(s)),
      };
    });
}

function slotRange(text: string): [number, number] {
  const [first, last = first] = text.split('-');
  return [Number(first), Number(last)];
}

/** `host:port` of the live master serving `slot`. */
export async function masterOfSlot(setup: RedisSetup, slot: number): Promise<string> {
  const nodes = await clusterNodes(setup);
  const owner = nodes.find((n) => n.master && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b));
  if (!owner) throw new Error(`no live master serves slot ${slot}`);
  return owner.address;
}

/** `host:port` of the live master serving the Cluster slot of `key` (Redis computes the slot). */
export async function masterOfKey(setup: RedisSetup, key: string): Promise<string> {
  return masterOfSlot(setup, Number(await call(setup.live()[0], 'CLUSTER', 'KEYSLOT', key)));
}

/**
 * The live data nodes holding a pattern subscription named {@link SUBSCRIBER_NAME}, one entry per
 * such connection (a node subscribed by two echo-relay nodes is listed twice).
 */
export async function subscriberNodes(setup: RedisSetup): Promise<string[]> {
  const held: string[] = [];
  for (const node of setup.live()) {
    const clients = String(await call(node, 'CLIENT', 'LIST', 'TYPE', 'pubsub')).split('\n');
    for (const client of clients) {
      if (client.includes(`name=${SUBSCRIBER_NAME} `) && !/ psub=0 /.test(` ${client} `)) held.push(node);
    }
  }
  return held;
}

/**
 * Waits until `killed` (a data node, already killed) is replaced if it was a master: on Sentinel,
 * the sentinels name another master and that node says it is one; on a Cluster, every live node
 * reports `cluster_state:ok` and live masters serve every slot. Resolves with the master(s) then.
 */
export async function waitForFailover(setup: RedisSetup, killed: string, timeoutMs = 20_000): Promise<string[]> {
  let masters: string[] = [];
  const done = async (): Promise<boolean> => {
    if (setup.sentinels.length > 0) {
      const master = await currentMaster(setup);
      masters = [master];
      return master !== killed && String(await call(master, 'INFO', 'replication')).includes('role:master');
    }
    for (const node of setup.live()) {
      if (!String(await call(node, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
    }
    const nodes = await clusterNodes(setup);
    const live = nodes.filter((n) => n.master && !n.failed && n.slots.length > 0);
    masters = live.map((n) => n.address);
    return !masters.includes(killed) && live.reduce((sum, n) => sum + slotCount(n), 0) === 16384;
  };
  await waitUntil(done, timeoutMs, `failover away from ${killed}`);
  return masters;
}

function slotCount(node: ClusterNode): number {
  return node.slots.reduce((sum, [a, b]) => sum + b - a + 1, 0);
}

/** What became of one publish: Redis answered (`accepted`), or the call failed (it may have run or not). */
export interface PublishAttempt {
  seq: number;
  accepted: boolean;
  /** `Date.now()` when the call settled. */
  settledAt: number;
}

/**
 * A Laravel app broadcasting `{seq}` on `channels` once every `everyMs`, through a client that
 * follows failovers as a Laravel app's does: the sentinels name the master on every reconnect, a
 * Cluster client maps the slots again. Like a PHP worker it publishes one call after the other and
 * never sends a call again: a call that fails is recorded as failed, not retried, so a publish that
 * ran on a dying master is never published twice, and accepted publishes ran in `seq` order.
 */
export class SteadyPublisher {
  readonly attempts: PublishAttempt[] = [];
  private readonly client: Redis | Cluster;
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    setup: RedisSetup,
    private readonly prefix: string,
    private readonly channels: string[],
    readonly event: string,
    private readonly everyMs = 50,
  ) {
    // A failed call fails at once instead of waiting in a queue, and is never sent again.
    const once = { maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, retryStrategy: () => 50 };
    this.client = setup.kind.startsWith('cluster')
      ? new Cluster(setup.nodes.map(hostAndPort), { retryDelayOnFailover: 0, redisOptions: once })
      : new Redis({ sentinels: setup.sentinels.map(hostAndPort), name: SENTINEL_MASTER, ...once });
    this.client.on('error', () => undefined);
  }

  /** `seq` of every accepted publish, in order. */
  get accepted(): number[] {
    return this.attempts.filter((a) => a.accepted).map((a) => a.seq);
  }

  /** `seq` of every publish tried. */
  get attempted(): Set<number> {
    return new Set(this.attempts.map((a) => a.seq));
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Stops after the call in flight, and closes the client. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    this.client.disconnect();
  }

  private async run(): Promise<void> {
    for (let seq = 1; !this.stopping; seq++) {
      const started = Date.now();
      const payload = phpJsonEncode({ event: this.event, data: { seq }, socket: null });
      const keys = this.channels.map((c) => this.prefix + c);
      const accepted = await this.client.eval(BROADCAST_SCRIPT, 0, payload, ...keys).then(
        () => true,
        () => false,
      );
      this.attempts.push({ seq, accepted, settledAt: Date.now() });
      await sleep(Math.max(0, this.everyMs - (Date.now() - started)));
    }
  }
}

function hostAndPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}
