import { beforeAll, describe, expect, it } from '@jest/globals';
import { PresenceDirectory } from '../../src/channels/presence-directory.js';
import { rawSocket, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { waitUntil } from '../support/ports.js';
import { haveRedisServer, type TestRedis } from '../support/redis-server.js';
import type { TestRelay } from '../support/relay.js';

/**
 * The socket.io Redis adapter publishes and subscribes without handling failures; while Redis is
 * away those would be unhandled rejections, which end a Node process. This file runs in its own
 * process, so a crash fails it.
 */
const SKIP = !haveRedisServer() && 'needs a local redis-server to stop and start';

(SKIP ? describe.skip : describe)('presence and whispers while Redis is away', () => {
  const fx = useFixture({ auth: { ann: { id: 1, info: { name: 'Ann' } }, bob: { id: 2, info: { name: 'Bob' } } } });
  let redis: TestRedis;
  let relay: TestRelay;

  beforeAll(() => {
    ({ server: redis, relay } = fx);
  });

  const echoAs = (token: string): Promise<TestEcho> => fx.echoAs(token);

  it('keeps serving through an outage, and registers its members again in an emptied Redis', async () => {
    const ann = await echoAs('ann');
    const bob = await echoAs('bob');
    const whispers: unknown[] = [];
    ann.join('outage');
    bob.join('outage').listenForWhisper('typing', (d: unknown) => whispers.push(d));
    await relay.waitForSubscribers('presence-outage', 2);

    // The test Redis keeps nothing on disk: it comes back empty, as after a failover without replicas.
    await redis.stop(true);
    await waitUntil(async () => (await relay.ready()) !== 200, 10_000, 'the relay to notice Redis is gone');
    // Whispers and presence events go through the adapter's publish, which now fails.
    ann.join('outage').whisper('typing', { during: 'outage' });
    await waitUntil(() => whispers.length === 1, 5000, 'the whisper, delivered locally');
    bob.disconnect();
    await relay.waitForSubscribers('presence-outage', 1);

    await redis.start();
    await waitUntil(async () => (await relay.ready()) === 200, 15_000, 'the relay to be back');
    const directory = relay.app.get(PresenceDirectory);
    const ann1 = { user_id: 1, user_info: { name: 'Ann' } };
    await waitUntil(async () => (await directory.members('presence-outage')).length === 1, 15_000, 'Ann again');
    // Ann registered again, Bob not
    expect(await directory.members('presence-outage')).toEqual([ann1]);
    const carol = await echoAs('bob');
    const here: unknown[][] = [];
    rawSocket(carol).on('presence:subscribed', (...args) => here.push(args));
    carol.join('outage');
    await waitUntil(() => here.length === 1);
    expect(here).toEqual([['presence-outage', [ann1, { user_id: 2, user_info: { name: 'Bob' } }]]]);
    expect(rawSocket(ann).connected).toBe(true);
  });
});

(SKIP ? describe.skip : describe)('presence after Redis restarts empty', () => {
  const users = {
    ann: { id: 1, info: { name: 'Ann' } },
    bob: { id: 2, info: { name: 'Bob' } },
    carol: { id: 3, info: { name: 'Carol' } },
    dave: { id: 4, info: { name: 'Dave' } },
  };
  // A short lease so that the renewal which finds Redis emptied comes soon.
  const fx = useFixture({ nodes: 2, auth: users, env: { ECHO_RELAY_PRESENCE_LEASE_MS: '4000' } });
  const member = (name: keyof typeof users): { user_id: number; user_info: unknown } => ({
    user_id: users[name].id,
    user_info: users[name].info,
  });

  it('re-announces nobody who did not leave, on either node, and lists everyone again', async () => {
    const [nodeA, nodeB] = fx.nodes;
    const joining = new Map<string, unknown[][]>([
      ['ann', []],
      ['bob', []],
    ]);
    const ann = await fx.echoAs('ann', { on: nodeA });
    const bob = await fx.echoAs('bob', { on: nodeB });
    rawSocket(ann).on('presence:joining', (...args) => joining.get('ann')?.push(args));
    rawSocket(bob).on('presence:joining', (...args) => joining.get('bob')?.push(args));
    ann.join('restart');
    await nodeA.waitForSubscribers('presence-restart', 1);
    bob.join('restart');
    await nodeB.waitForSubscribers('presence-restart', 1);
    await waitUntil(() => joining.get('ann')?.length === 1, 10_000, 'Ann to see Bob join');
    expect(joining.get('ann')).toEqual([['presence-restart', member('bob')]]);
    joining.get('ann')?.splice(0);
    joining.get('bob')?.splice(0);

    // The test Redis keeps nothing on disk: it comes back empty.
    await fx.server.stop(true);
    await waitUntil(async () => (await nodeA.ready()) !== 200, 10_000, 'node A to notice Redis is gone');
    await fx.server.start();
    await waitUntil(async () => (await nodeA.ready()) === 200 && (await nodeB.ready()) === 200, 15_000, 'both back');
    const directory = nodeA.app.get(PresenceDirectory);
    await waitUntil(
      async () => (await directory.members('presence-restart')).length === 2,
      20_000,
      'both nodes to register their members again',
    );

    // One newcomer per node: each node's announcements reach every client in the order the node
    // sent them, so a re-announcement by either node would arrive before its newcomer's joining.
    const here: unknown[][] = [];
    const carol = await fx.echoAs('carol', { on: nodeA });
    rawSocket(carol).on('presence:subscribed', (...args) => here.push(args));
    carol.join('restart');
    await waitUntil(() => here.length === 1, 10_000, "Carol's member list");
    const dave = await fx.echoAs('dave', { on: nodeB });
    dave.join('restart');
    for (const [who, events] of joining) {
      await waitUntil(() => events.length >= 2, 10_000, `${who} to see Carol and Dave join`);
    }
    const sorted = (events: unknown[][] | undefined): string[] => (events ?? []).map((e) => JSON.stringify(e)).sort();
    const newcomers = sorted([
      ['presence-restart', member('carol')],
      ['presence-restart', member('dave')],
    ]);
    expect(sorted(joining.get('ann'))).toEqual(newcomers);
    expect(sorted(joining.get('bob'))).toEqual(newcomers);
    // Carol's list, sent after the re-registration, was complete; so is the directory the HTTP API reads.
    const [[channel, list]] = here as [[string, { user_id: number }[]]];
    expect(channel).toBe('presence-restart');
    expect(list.map((m) => m.user_id).sort()).toEqual([1, 2, 3]);
    const listed = (await directory.members('presence-restart')).map((m) => m.user_id);
    expect(listed.sort()).toEqual([1, 2, 3, 4]);
  });
});
