import { beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { PresenceDirectory } from '../../src/channels/presence-directory.js';
import { SocketServer } from '../../src/gateway/socket-server.js';
import { CLIENT_VERSIONS, connected, rawSocket, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { waitUntil } from '../support/ports.js';
import { byJson, joinPresence } from '../support/presence-view.js';
import type { TestRelay } from '../support/relay.js';
import { startBalancer } from '../support/tcp-balancer.js';

/** Long enough for a dropped client to reconnect, be authorised and subscribe again on a busy machine. */
const GRACE_MS = 2000;
const LEASE_MS = 1000;
const ANN = { id: 1, info: { name: 'Ann' } };
const BOB = { id: 2, info: { name: 'Bob' } };
const CAROL = { id: 3, info: { name: 'Carol' } };
const DAVE = { id: 4, info: { name: 'Dave' } };

describe('presence leave grace (presence.leaveGraceMs) with real clients on two nodes', () => {
  const fx = useFixture({
    nodes: 2,
    auth: { ann: ANN, bob: BOB, carol: CAROL, dave: DAVE },
    env: {
      ECHO_RELAY_PRESENCE_LEAVE_GRACE_MS: String(GRACE_MS),
      ECHO_RELAY_PRESENCE_LEASE_MS: String(LEASE_MS),
      ECHO_RELAY_SHUTDOWN_DISCONNECT_SPREAD_MS: '100',
    },
  });
  let nodeA: TestRelay;
  let nodeB: TestRelay;
  let redis: Redis;

  beforeAll(() => {
    [nodeA, nodeB] = fx.nodes;
    redis = new Redis(fx.redis.url);
    fx.defer(() => void redis.disconnect());
  });

  /** Presence entries in the store for a channel: one per socket connection, whoever's. */
  const entries = (room: string): Promise<number> => redis.hlen(`echo-relay:{presence}:ch:presence-${room}:sockets`);

  /** A client reconnecting by itself, as in a browser. */
  const reconnecting = async (token: string, on: string, version: 2 | 4 = 4): Promise<TestEcho> => {
    const echo = fx.client({ on, token, version, client: { reconnection: true, reconnectionDelay: 50 } });
    await connected(echo);
    return echo;
  };

  /** Every `connect` of the raw socket from now on (a reconnect is one more). */
  const connects = (echo: TestEcho): { count: number } => {
    const seen = { count: 0 };
    rawSocket(echo).on('connect', () => seen.count++);
    return seen;
  };

  for (const version of CLIENT_VERSIONS) {
    it(`a client whose connection drops and comes back within the grace is seen neither leaving nor joining (socket.io-client ${version})`, async () => {
      const room = `drop-v${version}`;
      const view = await joinPresence(await fx.echoAs('ann', { on: nodeA }), room);
      const bob = await reconnecting('bob', nodeB.url, version);
      const bobView = await joinPresence(bob, room);
      await waitUntil(() => view.joining.length === 1, 5000, 'Bob joining');
      const bobConnects = connects(bob);

      // The network drops Bob's connection (node B closes it); his client reconnects by itself.
      nodeB.app
        .get(SocketServer)
        .localConnections()
        .forEach((connection) => connection.close());
      await waitUntil(() => bobConnects.count === 1, 5000, "Bob's reconnect");
      // Echo subscribes again: his new connection's entry sits next to the old one, in its grace.
      await waitUntil(async () => (await entries(room)) === 3, 5000, "Bob's second entry");
      expect(byJson(bobView.here)).toEqual([ANN.info, BOB.info]);
      // The grace ends: the old entry goes, Bob stays.
      await waitUntil(async () => (await entries(room)) === 2, 4 * GRACE_MS, "the end of the old entry's grace");
      expect(byJson(await nodeA.app.get(PresenceDirectory).members(`presence-${room}`))).toEqual(
        byJson([
          { user_id: ANN.id, user_info: ANN.info },
          { user_id: BOB.id, user_info: BOB.info },
        ]),
      );
      // Carol joins through the node that removed the old entry: had it announced Bob leaving, Ann
      // would have been told before she hears of Carol.
      await joinPresence(await fx.echoAs('carol', { on: nodeB }), room);
      await waitUntil(() => view.joining.length === 2, 5000, 'Carol joining');
      expect(view.joining).toEqual([BOB.info, CAROL.info]);
      expect(view.leaving).toEqual([]);
    });
  }

  it('a client that does not come back is announced as leaving once the grace ended', async () => {
    const view = await joinPresence(await fx.echoAs('ann', { on: nodeA }), 'gone');
    const bob = await fx.echoAs('bob', { on: nodeB });
    await joinPresence(bob, 'gone');
    await waitUntil(() => view.joining.length === 1, 5000, 'Bob joining');
    bob.disconnect();
    await nodeB.waitForSubscribers('presence-gone', 0);
    // Disconnected, still within the grace: still a member.
    expect(await nodeA.app.get(PresenceDirectory).members('presence-gone')).toHaveLength(2);
    await waitUntil(() => view.leaving.length === 1, 4 * GRACE_MS, 'Bob leaving after the grace');
    expect(view.leaving).toEqual([BOB.info]);
    expect(await nodeA.app.get(PresenceDirectory).members('presence-gone')).toEqual([
      { user_id: ANN.id, user_info: ANN.info },
    ]);
  });

  it("a stopping node's clients move to another node without leaving and joining; who stays away leaves after the grace", async () => {
    const stopping = await fx.startNode();
    let backends = [stopping.port];
    const balancer = await startBalancer(() => backends);
    fx.defer(() => balancer.close());
    const view = await joinPresence(await fx.echoAs('ann', { on: nodeA }), 'move');
    const bob = await reconnecting('bob', balancer.url, 4);
    const dave = await reconnecting('dave', balancer.url, 2);
    await joinPresence(bob, 'move');
    await joinPresence(dave, 'move');
    // Carol is on the stopping node too, but will not come back.
    const carol = await fx.echoAs('carol', { on: stopping });
    await joinPresence(carol, 'move');
    await waitUntil(() => view.joining.length === 3, 5000, 'Bob, Dave and Carol joining');
    const moved = [connects(bob), connects(dave)];

    backends = [nodeB.port];
    await stopping.stop();
    await waitUntil(() => moved.every((m) => m.count === 1), 5000, 'Bob and Dave on node B');
    await nodeB.waitForSubscribers('presence-move', 2);
    // After the grace the other nodes purge the stopped node's entries: only Carol had no other.
    await waitUntil(() => view.leaving.length === 1, 4 * (GRACE_MS + LEASE_MS), 'Carol leaving');
    await waitUntil(async () => (await entries('move')) === 3, 5000, 'the purge of every old entry');
    // Carol comes back through node B: any other departure of that purge reached Ann before her.
    await joinPresence(await fx.echoAs('carol', { on: nodeB }), 'move');
    await waitUntil(() => view.joining.length === 4, 5000, 'Carol joining again');
    expect(view.leaving).toEqual([CAROL.info]);
    expect(view.joining).toEqual([BOB.info, DAVE.info, CAROL.info, CAROL.info]);
    expect(byJson(await nodeA.app.get(PresenceDirectory).members('presence-move'))).toEqual(
      byJson([ANN, BOB, DAVE, CAROL].map(({ id, info }) => ({ user_id: id, user_info: info }))),
    );
  });
});
