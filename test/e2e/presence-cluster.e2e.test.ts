import { beforeAll, describe, expect, it } from '@jest/globals';
import { PresenceDirectory } from '../../src/channels/presence-directory.js';
import type { ClientVersion, TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { waitUntil } from '../support/ports.js';
import { byJson, joinPresence } from '../support/presence-view.js';
import { waitReady } from '../support/relay-process.js';
import type { TestRelay } from '../support/relay.js';

const LEASE_MS = 1500;
const ANN = { id: 1, info: { name: 'Ann' } };
const BOB = { id: 2, info: { name: 'Bob' } };
const CAROL = { id: 3, info: { name: 'Carol' } };

describe('presence across echo-relay instances sharing one Redis', () => {
  const fx = useFixture({
    nodes: 2,
    auth: { ann: ANN, bob: BOB, carol: CAROL },
    env: { ECHO_RELAY_PRESENCE_LEASE_MS: String(LEASE_MS) },
  });
  let nodeA: TestRelay;
  let nodeB: TestRelay;

  beforeAll(() => {
    [nodeA, nodeB] = fx.nodes;
  });

  const echoAs = (token: string, url: string, version: ClientVersion = 4): Promise<TestEcho> =>
    fx.echoAs(token, { on: url, version });

  it('joined on one node is in here() on the other; joining and leaving cross nodes', async () => {
    const ann = await echoAs('ann', nodeA.url);
    const annView = await joinPresence(ann, 'cluster');
    const bob = await echoAs('bob', nodeB.url, 2);
    const bobView = await joinPresence(bob, 'cluster');
    expect(byJson(bobView.here)).toEqual([ANN.info, BOB.info]);
    await waitUntil(() => annView.joining.length === 1, 5000, 'joining on node A');
    expect(annView.joining).toEqual([BOB.info]);
    bob.disconnect();
    await waitUntil(() => annView.leaving.length === 1, 5000, 'leaving on node A');
    expect(annView.leaving).toEqual([BOB.info]);
    for (const node of [nodeA, nodeB]) {
      expect(await node.app.get(PresenceDirectory).members('presence-cluster')).toEqual([
        { user_id: 1, user_info: ANN.info },
      ]);
    }
  });

  it('one user with a tab on each node is one member until the last tab closes', async () => {
    const carol = await echoAs('carol', nodeA.url);
    const view = await joinPresence(carol, 'tabs');
    const tabA = await echoAs('ann', nodeA.url);
    await joinPresence(tabA, 'tabs');
    const tabB = await echoAs('ann', nodeB.url);
    const tabBView = await joinPresence(tabB, 'tabs');
    expect(byJson(tabBView.here)).toEqual([ANN.info, CAROL.info]);
    tabA.disconnect();
    await nodeA.waitForSubscribers('presence-tabs', 1);
    tabB.disconnect();
    await waitUntil(() => view.leaving.length === 1, 5000, 'leaving after the last tab');
    // one joining for two tabs
    expect(view.joining).toEqual([ANN.info]);
    // one leaving, after the last tab
    expect(view.leaving).toEqual([ANN.info]);
  });

  it("a killed node's members are gone after the lease, with presence:leaving", async () => {
    const doomed = fx.spawnNode();
    await waitReady(doomed);
    const ann = await echoAs('ann', nodeA.url);
    const view = await joinPresence(ann, 'ghosts');
    const bob = await echoAs('bob', doomed.url);
    await joinPresence(bob, 'ghosts');
    await waitUntil(() => view.joining.length === 1, 5000, 'joining from the child node');
    const directory = nodeA.app.get(PresenceDirectory);
    expect((await directory.members('presence-ghosts')).length).toBe(2);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const killedAt = Date.now();
    await waitUntil(() => view.leaving.length === 1, 4 * LEASE_MS, 'leaving of the dead node');
    const ghostMs = Date.now() - killedAt;
    expect(await directory.members('presence-ghosts')).toEqual([{ user_id: 1, user_info: ANN.info }]);
    // Both live nodes sweep: once Carol's later arrival is seen, a second leaving would have been too.
    await joinPresence(await echoAs('carol', nodeB.url), 'ghosts');
    await waitUntil(() => view.joining.length === 2, 5000, "Carol's joining");
    expect(view.leaving).toEqual([BOB.info]);
    // One lease, plus slack for a busy test machine; not several leases.
    expect(ghostMs).toBeLessThan(LEASE_MS + 2000);
  });
});
