import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io';
import { startRedis, type TestRedis } from '../../test/support/redis-server.js';
import { ConfigModule } from '../config/config.module.js';
import { loadConfig } from '../config/load-config.js';
import type { RelayConfig } from '../config/relay-config.js';
import type { PresenceMember } from './presence-directory.js';
import { SocketServer } from '../gateway/socket-server.js';
import { PresenceService } from './presence.service.js';
import { RedisPresenceStore } from './redis-presence.store.js';

/** One echo-relay node's presence: the real service and store, on the spec's own Redis. */
interface Node {
  store: RedisPresenceStore;
  presence: PresenceService;
  module: TestingModule;
}

/** A socket that records what `to(room).emit` sends to the room (presence:joining). */
class FakeSocket {
  readonly toRoom: unknown[][] = [];

  constructor(readonly id: string) {}

  to(room: string): { emit: (...args: unknown[]) => boolean } {
    return { emit: (...args) => this.toRoom.push([room, ...args]) > 0 };
  }

  get asSocket(): Socket {
    return this as unknown as Socket;
  }
}

const user = (id: number, name = `user ${id}`): PresenceMember => ({ user_id: id, user_info: { name } });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('PresenceService and RedisPresenceStore against a real Redis', () => {
  let redis: TestRedis;
  let client: Redis;
  let config: RelayConfig;
  const nodes: Node[] = [];

  async function node(): Promise<Node> {
    const module = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config)],
      // No socket.io server is attached: announcements go nowhere, as before the gateway starts.
      providers: [RedisPresenceStore, PresenceService, SocketServer],
    }).compile();
    const created = { module, store: module.get(RedisPresenceStore), presence: module.get(PresenceService) };
    nodes.push(created);
    return created;
  }

  beforeAll(async () => {
    Logger.overrideLogger(false);
    redis = await startRedis();
    client = new Redis(redis.url);
    ({ config } = loadConfig({
      env: { REDIS_URL: redis.url, ECHO_RELAY_PRESENCE_LEASE_MS: '500' },
      cwd: mkdtempSync(join(tmpdir(), 'echo-relay-presence-')),
    }));
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
      await sleep(450);
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
});
