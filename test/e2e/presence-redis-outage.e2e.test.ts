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
