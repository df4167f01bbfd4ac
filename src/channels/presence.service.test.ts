import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../../test/support/ports.js';
import { FakeSocket, fakeServer, type PresenceNode } from '../../test/support/presence-nodes.js';
import { startRedis, type TestRedis } from '../../test/support/redis-server.js';
import { ConfigModule } from '../config/config.module.js';
import { loadConfig } from '../config/load-config.js';
import type { RelayConfig } from '../config/relay-config.js';
import type { PresenceMember } from './presence-directory.js';
import { SocketServer } from '../gateway/socket-server.js';
import { PresenceService } from './presence.service.js';
import { PusherHub } from '../pusher/pusher-hub.js';
import { RedisPresenceStore, type Departure } from './redis-presence.store.js';

const user = (id: number, name = `user ${id}`): PresenceMember => ({ user_id: id, user_info: { name } });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('PresenceService and RedisPresenceStore against a real Redis', () => {
  let redis: TestRedis;
  let client: Redis;
  let config: RelayConfig;
  let baseEnv: Record<string, string>;
  const cwd = mkdtempSync(join(tmpdir(), 'echo-relay-presence-'));
  const nodes: PresenceNode[] = [];

  async function node(env: Record<string, string> = {}): Promise<PresenceNode> {
    const nodeConfig = Object.keys(env).length === 0 ? config : loadConfig({ env: { ...baseEnv, ...env }, cwd }).config;
    const module = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(nodeConfig)],
      // No socket.io server is attached: announcements go nowhere, as before the gateway starts.
      providers: [RedisPresenceStore, PresenceService, SocketServer, PusherHub],
    }).compile();
    const created = { module, store: module.get(RedisPresenceStore), presence: module.get(PresenceService) };
    nodes.push(created);
    return created;
  }

  beforeAll(async () => {
    Logger.overrideLogger(false);
    redis = await startRedis();
    client = new Redis(redis.url);
    baseEnv = { REDIS_URL: redis.url, ECHO_RELAY_PRESENCE_LEASE_MS: '500' };
    ({ config } = loadConfig({ env: baseEnv, cwd }));
  });

  beforeEach(async () => {
    await client.flushall();
  });

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((created) => created.module.close()));
  });

  afterAll(async () => {
    client?.disconnect();
    await redis?.close();
  });

  describe('RedisPresenceStore', () => {
    it("counts a user's first socket in a channel, on any node, as the only first", async () => {
      const [a, b] = [await node(), await node()];
      expect(await a.store.add('presence-x', 's1', user(1))).toEqual({ first: true, members: [user(1)] });
      expect(await a.store.add('presence-x', 's2', user(1))).toEqual({ first: false, members: [user(1)] });
      expect(await b.store.add('presence-x', 's3', user(1))).toEqual({ first: false, members: [user(1)] });
      expect(await a.store.add('presence-y', 's1', user(1))).toMatchObject({ first: true });
    });

    it("names the member only when the user's last socket leaves", async () => {
      const [a, b] = [await node(), await node()];
      await a.store.add('presence-x', 's1', user(1));
      await b.store.add('presence-x', 's2', user(1));
      expect(await a.store.remove('presence-x', 's1')).toBeUndefined();
      expect(await a.store.remove('presence-x', 's1')).toBeUndefined();
      expect(await b.store.remove('presence-x', 's2')).toEqual(user(1));
      expect(await a.store.members('presence-x')).toEqual([]);
    });

    it('lists each user once, in the order they arrived, with their latest user_info', async () => {
      const { store } = await node();
      for (const [socket, id] of [
        ['s3', 3],
        ['s1', 1],
        ['s2', 2],
      ] as const)
        await store.add('presence-x', socket, user(id));
      await store.add('presence-x', 's4', user(3, 'renamed'));
      expect(await store.members('presence-x')).toEqual([user(3, 'renamed'), user(1), user(2)]);
    });

    it('purges its own entries on a graceful stop, naming only users with no socket left elsewhere', async () => {
      const [a, b] = [await node(), await node()];
      await a.store.add('presence-x', 's1', user(1));
      await a.store.add('presence-x', 's2', user(1));
      await a.store.add('presence-y', 's1', user(2));
      await b.store.add('presence-x', 's3', user(1));
      expect(await a.store.purgeOwn()).toEqual([{ channel: 'presence-y', member: user(2) }]);
      expect(await a.store.members('presence-x')).toEqual([user(1)]);
      expect(await a.store.members('presence-y')).toEqual([]);
      expect(await b.store.purgeOwn()).toEqual([{ channel: 'presence-x', member: user(1) }]);
    });

    it("purges a node's members once its lease ran out, and only then", async () => {
      const [live, dead] = [await node(), await node()];
      await dead.store.add('presence-x', 's1', user(1));
      expect(await dead.store.renewLease()).toBe('lapsed');
      expect(await dead.store.renewLease()).toBe('held');
      expect(await live.store.purgeExpired()).toEqual([]);
      // The lease is three quarters of presence.leaseMs (500) from the last renewal.
      await sleep(450);
      expect(await live.store.purgeExpired()).toEqual([{ channel: 'presence-x', member: user(1) }]);
      expect(await live.store.members('presence-x')).toEqual([]);
      // Its departure was announced, so its members will be announced again; said once.
      expect(await dead.store.renewLease()).toBe('purged');
      expect(await dead.store.renewLease()).toBe('held');
    });

    it('tells a lease lost with the data (Redis restarted empty) from one purged by another node', async () => {
      const [live, lost] = [await node(), await node()];
      await lost.store.add('presence-x', 's1', user(1));
      expect(await lost.store.renewLease()).toBe('lapsed');
      await client.flushall();
      expect(await lost.store.renewLease()).toBe('lapsed');
      // A lease that ran out but nobody swept: nobody saw the member leave either.
      await lost.store.add('presence-x', 's1', user(1));
      expect(await lost.store.renewLease()).toBe('held');
      // Another node beats meanwhile: a silence of every node would extend the lease (see HEARTBEAT_SCRIPT).
      for (let i = 0; i < 5; i++) {
        await sleep(90);
        await live.store.renewLease();
      }
      expect(await lost.store.renewLease()).toBe('lapsed');
      expect(await live.store.purgeExpired()).toEqual([]);
      expect(await live.store.members('presence-x')).toEqual([user(1)]);
    });
  });

  describe('PresenceService', () => {
    it('welcomes the socket with every member and announces only a first socket to the others', async () => {
      const { presence } = await node();
      const [s1, s2, s3] = [new FakeSocket('s1'), new FakeSocket('s2'), new FakeSocket('s3')];
      const welcomes: PresenceMember[][] = [];
      await presence.add(s1.asSocket, 'presence-x', user(1), (members) => welcomes.push(members));
      await presence.add(s2.asSocket, 'presence-x', user(2), (members) => welcomes.push(members));
      await presence.add(s3.asSocket, 'presence-x', user(2), (members) => welcomes.push(members));
      expect(welcomes).toEqual([[user(1)], [user(1), user(2)], [user(1), user(2)]]);
      expect(s1.toRoom).toEqual([['presence-x', 'presence:joining', 'presence-x', user(1)]]);
      expect(s2.toRoom).toEqual([['presence-x', 'presence:joining', 'presence-x', user(2)]]);
      expect(s3.toRoom).toEqual([]);
    });

    it("remembers each socket's entries and removes only what the socket added", async () => {
      const { presence, store } = await node();
      const [s1, s2] = [new FakeSocket('s1'), new FakeSocket('s2')];
      await presence.add(s1.asSocket, 'presence-x', user(1));
      await presence.add(s1.asSocket, 'presence-y', user(1));
      expect(presence.channelsOf(s1.asSocket)).toEqual(['presence-x', 'presence-y']);
      expect(presence.channelsOf(s2.asSocket)).toEqual([]);
      await presence.remove(s2.asSocket, 'presence-x');
      expect(await store.members('presence-x')).toEqual([user(1)]);
      await presence.remove(s1.asSocket, 'presence-x');
      expect(presence.channelsOf(s1.asSocket)).toEqual(['presence-y']);
      expect(await store.members('presence-x')).toEqual([]);
    });

    it("removes this node's members on release, then announces nothing", async () => {
      const [a, b] = [await node(), await node()];
      await a.presence.add(new FakeSocket('s1').asSocket, 'presence-x', user(1));
      await b.presence.add(new FakeSocket('s2').asSocket, 'presence-x', user(2));
      await a.presence.release(2000);
      expect(await b.store.members('presence-x')).toEqual([user(2)]);
      const late = new FakeSocket('s3');
      await a.presence.add(late.asSocket, 'presence-z', user(3));
      expect(late.toRoom).toEqual([]);
    });
  });

  describe('leave grace (presence.leaveGraceMs) and per-connection entries', () => {
    /** Long enough that the steps a spec takes before it ends run well within it. */
    const GRACE_MS = 1000;
    /** As recorded: the room, then the event and its arguments. */
    const leaving = (channel: string, member: PresenceMember): unknown[] => [
      channel,
      'presence:leaving',
      channel,
      member,
    ];
    const joining = (channel: string, member: PresenceMember): unknown[] => [
      channel,
      'presence:joining',
      channel,
      member,
    ];
    let said: unknown[][];

    /** A node whose announcements land in `said`. */
    async function announcingNode(graceMs: number): Promise<PresenceNode> {
      const created = await node({ ECHO_RELAY_PRESENCE_LEAVE_GRACE_MS: String(graceMs) });
      created.module.get(SocketServer).attach(fakeServer(said));
      return created;
    }

    /** The entries the store holds for a channel (one per connection), straight from Redis. */
    const entryCount = (channel: string): Promise<number> => client.hlen(`echo-relay:{presence}:ch:${channel}:sockets`);

    beforeEach(() => {
      said = [];
    });

    it('without a grace removes a disconnected socket at once and announces the departure', async () => {
      const { presence, store } = await announcingNode(0);
      const [s1, s2] = [new FakeSocket('s1'), new FakeSocket('s2')];
      await presence.add(s1.asSocket, 'presence-x', user(1));
      await presence.add(s2.asSocket, 'presence-x', user(2));
      await presence.disconnected(s1.asSocket);
      expect(presence.channelsOf(s1.asSocket)).toEqual([]);
      expect(await store.members('presence-x')).toEqual([user(2)]);
      expect(said).toEqual([leaving('presence-x', user(1))]);
    });

    it('keeps a recovered socket (same id, another node) present within the grace: no leaving, no joining', async () => {
      const [a, b] = [await announcingNode(GRACE_MS), await announcingNode(GRACE_MS)];
      const [before, other] = [new FakeSocket('s1'), new FakeSocket('s2')];
      await a.presence.add(before.asSocket, 'presence-x', user(1));
      await a.presence.add(other.asSocket, 'presence-x', user(2));
      const removed = a.presence.disconnected(before.asSocket);
      const after = new FakeSocket('s1');
      const welcomes: PresenceMember[][] = [];
      await b.presence.rejoin(after.asSocket, 'presence-x', user(1), (members) => welcomes.push(members));
      expect(welcomes).toEqual([[user(1), user(2)]]);
      expect(after.toRoom).toEqual([]);
      expect(await entryCount('presence-x')).toBe(3);
      await removed;
      expect(await entryCount('presence-x')).toBe(2);
      expect(await b.store.members('presence-x')).toEqual([user(1), user(2)]);
      expect(said).toEqual([]);
      // The recovered socket's own entry is recorded: its disconnect removes it, after its grace.
      expect(b.presence.channelsOf(after.asSocket)).toEqual(['presence-x']);
      await b.presence.disconnected(after.asSocket);
      expect(said).toEqual([leaving('presence-x', user(1))]);
    });

    it('announces the departure of a socket that did not come back once the grace ended', async () => {
      const { presence, store } = await announcingNode(GRACE_MS);
      const [s1, s2] = [new FakeSocket('s1'), new FakeSocket('s2')];
      await presence.add(s1.asSocket, 'presence-x', user(1));
      await presence.add(s1.asSocket, 'presence-y', user(1));
      await presence.add(s2.asSocket, 'presence-y', user(1));
      const removed = presence.disconnected(s1.asSocket);
      expect(await store.members('presence-x')).toEqual([user(1)]);
      expect(said).toEqual([]);
      await removed;
      // presence-y: the user's other socket is still there.
      expect(said).toEqual([leaving('presence-x', user(1))]);
      expect(await store.members('presence-x')).toEqual([]);
      expect(await store.members('presence-y')).toEqual([user(1)]);
      // Past the grace a returning socket is a new arrival again.
      const back = new FakeSocket('s1');
      await presence.rejoin(back.asSocket, 'presence-x', user(1), () => undefined);
      expect(back.toRoom).toEqual([joining('presence-x', user(1))]);
    });

    it('writes entries still in their grace back after Redis lost them, so their departure is still announced', async () => {
      const { presence, store } = await announcingNode(GRACE_MS);
      const s1 = new FakeSocket('s1');
      await presence.add(s1.asSocket, 'presence-x', user(1));
      const removed = presence.disconnected(s1.asSocket);
      await client.flushall();
      await presence.reregister(false);
      expect(await store.members('presence-x')).toEqual([user(1)]);
      await removed;
      expect(said).toEqual([leaving('presence-x', user(1))]);
      expect(await store.members('presence-x')).toEqual([]);
    });

    it('removes at once on an explicit unsubscribe, grace or not', async () => {
      const { presence, store } = await announcingNode(GRACE_MS);
      const s1 = new FakeSocket('s1');
      await presence.add(s1.asSocket, 'presence-x', user(1));
      await presence.remove(s1.asSocket, 'presence-x');
      expect(said).toEqual([leaving('presence-x', user(1))]);
      expect(await store.members('presence-x')).toEqual([]);
      // Nothing left for the disconnect to remove later.
      await presence.disconnected(s1.asSocket);
      expect(said).toHaveLength(1);
    });

    it("keeps one node's entry for a socket id apart from another node's entry for the same id", async () => {
      const [a, b] = [await announcingNode(0), await announcingNode(0)];
      const [onA, onB] = [new FakeSocket('s1'), new FakeSocket('s1')];
      await a.presence.add(onA.asSocket, 'presence-x', user(1));
      await b.presence.add(onB.asSocket, 'presence-x', user(1));
      expect(onB.toRoom).toEqual([]);
      expect(await entryCount('presence-x')).toBe(2);
      await a.presence.disconnected(onA.asSocket);
      expect(said).toEqual([]);
      expect(await b.store.members('presence-x')).toEqual([user(1)]);
      await b.presence.remove(onB.asSocket, 'presence-x');
      expect(said).toEqual([leaving('presence-x', user(1))]);
    });

    it('on a graceful stop with a grace, leaves the purge (and the departures) to the other nodes after it', async () => {
      const [stopping, other] = [await announcingNode(GRACE_MS), await announcingNode(GRACE_MS)];
      const [s1, s2, s3] = [new FakeSocket('s1'), new FakeSocket('s2'), new FakeSocket('s3')];
      await stopping.presence.add(s1.asSocket, 'presence-x', user(1));
      await stopping.presence.add(s2.asSocket, 'presence-x', user(2));
      await stopping.presence.add(s3.asSocket, 'presence-x', user(3));
      // Disconnected before the stop, still within its grace: its removal is left to the purge too.
      const removed = stopping.presence.disconnected(s3.asSocket);
      await stopping.presence.release(2000);
      await removed;
      expect(said).toEqual([]);
      expect(await other.store.members('presence-x')).toEqual([user(1), user(2), user(3)]);
      // s2's client reconnects to the other node: a second entry of its user, not a new member.
      const s2Again = new FakeSocket('s2');
      await other.presence.add(s2Again.asSocket, 'presence-x', user(2));
      expect(s2Again.toRoom).toEqual([]);
      // The stopped node's lease ends with the grace, not before.
      expect(await other.store.purgeExpired()).toEqual([]);
      let departures: Departure[] = [];
      await waitUntil(
        async () => (departures = await other.store.purgeExpired()).length > 0,
        10 * GRACE_MS,
        'the purge of the stopped node',
      );
      const byUser = (d: Departure): number => Number(d.member.user_id);
      expect(departures.sort((x, y) => byUser(x) - byUser(y))).toEqual([
        { channel: 'presence-x', member: user(1) },
        { channel: 'presence-x', member: user(3) },
      ]);
      expect(await other.store.members('presence-x')).toEqual([user(2)]);
      expect(said).toEqual([]);
    });
  });
});
