import assert from 'node:assert/strict';
import { afterAll, afterEach, beforeAll, describe, it } from '@jest/globals';
import { PresenceDirectory } from '../../src/channels/presence-directory.js';
import { connected, createEcho, type TestEcho } from '../support/echo-client.js';
import { LaravelAuthStub } from '../support/laravel-auth-stub.js';
import { waitUntil } from '../support/ports.js';
import { byJson, joinPresence } from '../support/presence-view.js';
import { canStartTopologies, REDIS_TOPOLOGIES } from '../support/redis-topologies.js';
import { startReadyRelay, type TestRelay } from '../support/relay.js';

const ANN = { id: 1, info: { name: 'Ann' } };
const BOB = { id: 2, info: { name: 'Bob' } };

(canStartTopologies() ? describe : describe.skip)(
  'presence and whispers across two nodes on other Redis topologies',
  () => {
    let app: LaravelAuthStub;
    const cleanup: (() => Promise<void>)[] = [];
    const clients: TestEcho[] = [];

    beforeAll(async () => {
      app = await LaravelAuthStub.start();
      app.users.set('ann', ANN);
      app.users.set('bob', BOB);
    });

    afterAll(async () => {
      for (const step of cleanup.reverse()) await step();
      await app.close();
    });

    afterEach(() => {
      clients.splice(0).forEach((echo) => echo.disconnect());
    });

    async function echoAs(token: string, relay: TestRelay): Promise<TestEcho> {
      const echo = createEcho(relay.url, 4, { auth: { headers: { Authorization: `Bearer ${token}` } } });
      clients.push(echo);
      await connected(echo);
      return echo;
    }

    for (const [name, start, env] of REDIS_TOPOLOGIES) {
      it(`${name}: here, joining, whispers and leaving cross nodes`, async () => {
        const group = await start();
        cleanup.push(() => group.close());
        const relays: TestRelay[] = [];
        for (let i = 0; i < 2; i++) {
          const relay = await startReadyRelay({ env: { ...env(group), ECHO_RELAY_AUTH_HOST: app.url } });
          cleanup.push(() => relay.stop());
          relays.push(relay);
        }
        const [nodeA, nodeB] = relays;
        const ann = await echoAs('ann', nodeA);
        const annView = await joinPresence(ann, 'topology');
        const whispers: unknown[] = [];
        ann.join('topology').listenForWhisper('typing', (d: unknown) => whispers.push(d));
        const bob = await echoAs('bob', nodeB);
        const bobView = await joinPresence(bob, 'topology');
        assert.deepEqual(byJson(bobView.here), [ANN.info, BOB.info]);
        await waitUntil(() => annView.joining.length === 1, 5000, 'joining across nodes');
        bob.join('topology').whisper('typing', { from: 'bob' });
        await waitUntil(() => whispers.length === 1, 5000, 'a whisper across nodes');
        bob.disconnect();
        await waitUntil(() => annView.leaving.length === 1, 5000, 'leaving across nodes');
        assert.deepEqual(annView.leaving, [BOB.info]);
        assert.deepEqual(await nodeB.app.get(PresenceDirectory).members('presence-topology'), [
          { user_id: 1, user_info: ANN.info },
        ]);
      });
    }
  },
);
