import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, waitUntil } from '../../test/support/ports.js';
import { FakeSocket, fakeServer, type PresenceNode } from '../../test/support/presence-nodes.js';
import { startRedis, type TestRedis } from '../../test/support/redis-server.js';
import { ConfigModule } from '../config/config.module.js';
import { loadConfig } from '../config/load-config.js';
import { SocketServer } from '../gateway/socket-server.js';
import { PusherHub } from '../pusher/pusher-hub.js';
import type { PresenceMember } from './presence-directory.js';
import { PresenceLease } from './presence-lease.js';
import { PresenceService } from './presence.service.js';
import { redisNames } from '../redis/redis-namespace.js';
import { RedisPresenceStore } from './redis-presence.store.js';

const PRESENCE_NAMESPACE = redisNames('').presence;

const user = (id: number): PresenceMember => ({ user_id: id, user_info: { name: `user ${id}` } });
/** presence.leaseMs of these specs: renewed and swept every 250 ms, a lease valid 750 ms. */
const LEASE_MS = 1000;

describe('PresenceLease across a Redis failover', () => {
  let redis: TestRedis;
  let admin: Redis;
  const cwd = mkdtempSync(join(tmpdir(), 'echo-relay-lease-'));
  const nodes: PresenceNode[] = [];
  let said: unknown[][];

  async function node(sockets: FakeSocket[], lease = true, leaseMs = LEASE_MS): Promise<PresenceNode> {
    const env = { REDIS_URL: redis.url, ECHO_RELAY_PRESENCE_LEASE_MS: String(leaseMs) };
    const module = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(loadConfig({ env, cwd }).config)],
      providers: [RedisPresenceStore, PresenceService, SocketServer, PusherHub, ...(lease ? [PresenceLease] : [])],
    }).compile();
    module.get(SocketServer).attach(fakeServer(said, sockets));
    await module.init();
    const created = { module, store: module.get(RedisPresenceStore), presence: module.get(PresenceService) };
    nodes.push(created);
    return created;
  }

  beforeAll(async () => {
    Logger.overrideLogger(false);
    redis = await startRedis();
    admin = new Redis(redis.url);
  });

  beforeEach(async () => {
    said = [];
    await admin.flushall();
  });

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((created) => created.module.close()));
  });

  afterAll(async () => {
    admin?.disconnect();
    await redis?.close();
  });

  it("writes this node's entries again once its connection comes back, silently: the promoted replica may lack them", async () => {
    const socket = new FakeSocket('s1');
    const { presence, store } = await node([socket]);
    await presence.add(socket.asSocket, 'presence-x', user(1));
    expect(socket.toRoom).toHaveLength(1);

    // What a failover looks like from here: the connection drops, and the new master lacks the
    // last writes (the lease, renewed long before, it has).
    for (const suffix of ['sockets', 'counts', 'users'])
      await admin.del(`${PRESENCE_NAMESPACE}ch:presence-x:${suffix}`);
    await admin.del(`${PRESENCE_NAMESPACE}node:${store.nodeId}`);
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');

    await waitUntil(async () => (await store.members('presence-x')).length === 1, 5000, 'the member written again');
    expect(await store.members('presence-x')).toEqual([user(1)]);
    expect(await admin.smembers(`${PRESENCE_NAMESPACE}node:${store.nodeId}`)).toHaveLength(1);
    // Nobody was told anything: nobody saw the member go.
    expect(socket.toRoom).toHaveLength(1);
    expect(said).toEqual([]);
  });

  it('after renewing late (Redis was out of reach for everyone) judges the other leases only a lease later', async () => {
    // A node that died just before Redis stalled: its lease runs out during the stall.
    const dead = await node([], false);
    await dead.presence.add(new FakeSocket('d1').asSocket, 'presence-x', user(2));
    const socket = new FakeSocket('s1');
    const live = await node([socket]);
    await live.presence.add(socket.asSocket, 'presence-x', user(1));
    await dead.store.renewLease();

    // Right after one of the live node's sweeps, every command of every client waits 1 s: a
    // failover, from the clients' side. The next renewal is answered late.
    const calls: { call: string; at: number }[] = [];
    let stall = true;
    const renew = live.store.renewLease.bind(live.store);
    const purge = live.store.purgeExpired.bind(live.store);
    live.store.renewLease = async () => {
      const state = await renew();
      if (!stall) calls.push({ call: 'renew', at: Date.now() });
      return state;
    };
    live.store.purgeExpired = async (maxCalls?: number) => {
      const departures = await purge(maxCalls);
      if (!stall) calls.push({ call: `purge ${departures.length}`, at: Date.now() });
      if (stall) {
        stall = false;
        await admin.client('PAUSE', '1000', 'ALL');
      }
      return departures;
    };

    await waitUntil(() => said.length > 0, 5000, "the dead node's departure");
    // A live node whose renewal came a moment after this one's would have been purged at once.
    const purges = calls.filter(({ call }) => call.startsWith('purge'));
    expect(calls[0].call).toBe('renew');
    expect(purges[0].call).toBe('purge 1');
    expect(purges[0].at - calls[0].at).toBeGreaterThanOrEqual(LEASE_MS);
    expect(said).toEqual([['presence-x', 'presence:leaving', 'presence-x', user(2)]]);
    expect(await live.store.members('presence-x')).toEqual([user(1)]);
  });

  it('extends every lease over a silence of every heartbeat: the first node back purges nobody who comes back a moment later', async () => {
    const socket = new FakeSocket('a1');
    const a = await node([socket], false);
    await a.presence.add(socket.asSocket, 'presence-x', user(1));
    const b = await node([], false);
    await a.store.renewLease();
    await b.store.renewLease();
    const leaseOfA = async (): Promise<number> =>
      Number(await admin.zscore(`${PRESENCE_NAMESPACE}nodes`, a.store.nodeId));
    const pulse = async (): Promise<number> => Number(await admin.get(`${PRESENCE_NAMESPACE}pulse`));
    const [before, lastBeat] = [await leaseOfA(), await pulse()];

    // No node reaches Redis for longer than a lease is valid (750 ms): a failover. B gets back first.
    await sleep(1000);
    expect(await b.store.renewLease()).toBe('held');
    const silence = (await pulse()) - lastBeat;
    expect(silence).toBeGreaterThanOrEqual(1000);
    // Extended by the silence beyond one renewal period (250 ms).
    expect((await leaseOfA()) - before).toBe(silence - LEASE_MS / 4);
    expect(await b.store.purgeExpired()).toEqual([]);
    expect(await a.store.renewLease()).toBe('held');
    expect(await a.store.members('presence-x')).toEqual([user(1)]);
    expect(said).toEqual([]);
  });

  it('after a silence holds every sweep for a lease: a node back later than its extended lease stays, a dead one goes after', async () => {
    const socket = new FakeSocket('a1');
    const late = await node([socket], false);
    await late.presence.add(socket.asSocket, 'presence-x', user(1));
    const dead = await node([], false);
    await dead.presence.add(new FakeSocket('d1').asSocket, 'presence-x', user(2));
    const first = await node([], false);
    for (const each of [dead, late, first]) await each.store.renewLease();
    const leaseOf = async (n: PresenceNode): Promise<number> =>
      Number(await admin.zscore(`${PRESENCE_NAMESPACE}nodes`, n.store.nodeId));
    const redisNow = async (): Promise<number> => {
      const [s, us] = await admin.time();
      return Number(s) * 1000 + Math.floor(Number(us) / 1000);
    };

    // Every node misses its renewals for a second (two periods are 500 ms); one gets back first.
    await sleep(1000);
    expect(await first.store.renewLease()).toBe('held');
    const settling = await admin.pttl(`${PRESENCE_NAMESPACE}settling`);
    expect(settling).toBeGreaterThan(LEASE_MS - 200);
    // The late node's extended lease runs out before it gets back (its client is slower), while
    // the first one beats on.
    const extended = await leaseOf(late);
    while ((await redisNow()) <= extended + 20) {
      await first.store.renewLease();
      await sleep(100);
    }
    expect(await first.store.purgeExpired()).toEqual([]);
    expect(await late.store.renewLease()).toBe('lapsed');
    expect(await late.store.members('presence-x')).toEqual(expect.arrayContaining([user(1), user(2)]));

    // A lease after the silence, the node that never came back is purged.
    while ((await admin.exists(`${PRESENCE_NAMESPACE}settling`)) === 1) {
      for (const each of [first, late]) await each.store.renewLease();
      await sleep(100);
    }
    expect(await first.store.purgeExpired()).toEqual([{ channel: 'presence-x', member: user(2) }]);
    expect(await late.store.members('presence-x')).toEqual([user(1)]);
    expect(await leaseOf(dead)).toBe(0);
  });

  it('extends nothing while some node beats within its period, and still purges a dead node after a silence', async () => {
    const dead = await node([], false);
    await dead.presence.add(new FakeSocket('d1').asSocket, 'presence-x', user(2));
    // Renews every 15 s: its beats, a moment apart here, are well within its period.
    const steady = await node([], false, 60_000);
    await dead.store.renewLease();
    const leaseOf = async (): Promise<number> =>
      Number(await admin.zscore(`${PRESENCE_NAMESPACE}nodes`, dead.store.nodeId));
    const set = await leaseOf();
    await steady.store.renewLease();
    await steady.store.renewLease();
    expect(await leaseOf()).toBe(set);

    // A second of silence, then a node renewing and sweeping on its timer: extended, not forever.
    await admin.client('PAUSE', '1000', 'ALL');
    await node([]);
    await waitUntil(() => said.length > 0, 5000, "the dead node's departure");
    expect(said).toEqual([['presence-x', 'presence:leaving', 'presence-x', user(2)]]);
    expect(await dead.store.members('presence-x')).toEqual([]);
  });
});
