import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rawSocket, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { sleep } from '../support/ports.js';
import { joinPresence } from '../support/presence-view.js';
import { waitReady } from '../support/relay-process.js';
import type { TestRelay } from '../support/relay.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'webhook-secret';
const LEASE_MS = 1500;
const LEAVE_DELAY_MS = 1000;

describe('webhooks from two echo-relay nodes sharing one Redis', () => {
  const env: Record<string, string> = {
    ECHO_RELAY_CLIENTS: JSON.stringify([{ appId: 'app-1', key: 'key-1', secret: SECRET }]),
    ECHO_RELAY_PRESENCE_LEASE_MS: String(LEASE_MS),
    ECHO_RELAY_WEBHOOK_LEAVE_DELAY_MS: String(LEAVE_DELAY_MS),
  };
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start(SECRET);
    env.ECHO_RELAY_WEBHOOK_URL = receiver.url;
  });
  afterAll(() => receiver.down());
  const fx = useFixture({
    nodes: 2,
    auth: { ann: { id: 1, info: { name: 'Ann' } }, bob: { id: 2, info: { name: 'Bob' } } },
    env,
  });
  let nodeA: TestRelay;
  let nodeB: TestRelay;
  let markers = 0;

  beforeAll(() => {
    [nodeA, nodeB] = fx.nodes;
  });

  /**
   * Lets every held leave event fall due, then waits for a fresh marker event: events are sent in
   * the order they were released, so anything due before the marker has arrived with it.
   */
  async function settled(): Promise<void> {
    await sleep(LEAVE_DELAY_MS + 300);
    const channel = `marker-${++markers}`;
    await fx.echoOn(channel, { on: nodeA });
    await receiver.waitFor(() => receiver.on(channel).length > 0, `the ${channel} marker`);
  }

  const presenceAs = async (token: string, node: TestRelay | string, room: string): Promise<TestEcho> => {
    const echo = await fx.echoAs(token, { on: node });
    await joinPresence(echo, room);
    return echo;
  };

  it('channel_occupied for the first subscriber anywhere, channel_vacated after the last, whatever the node', async () => {
    const first = await fx.echoOn('orders', { on: nodeA });
    await receiver.waitFor(() => receiver.on('orders').length === 1, 'channel_occupied');
    const second = await fx.echoOn('orders', { on: nodeB });
    await nodeB.waitForSubscribers('orders', 1);
    first.disconnect();
    await nodeA.waitForSubscribers('orders', 0);
    await settled();
    // Not vacated while the subscriber on node B remains.
    expect(receiver.on('orders')).toEqual(['channel_occupied']);
    second.disconnect();
    await receiver.waitFor(() => receiver.on('orders').length === 2, 'channel_vacated');
    expect(receiver.on('orders')).toEqual(['channel_occupied', 'channel_vacated']);
    expect(receiver.requests.every((r) => r.signed && r.key === 'key-1')).toBe(true);
  });

  it("member_added on a user's first connection anywhere, member_removed after the last, one tab per node", async () => {
    const tabA = await presenceAs('ann', nodeA, 'team');
    const tabB = await presenceAs('ann', nodeB, 'team');
    const bob = await presenceAs('bob', nodeB, 'team');
    await receiver.waitFor(() => receiver.on('presence-team').length === 3, 'three events');
    tabA.disconnect();
    await settled();
    expect(receiver.on('presence-team')).toEqual(['channel_occupied', 'member_added 1', 'member_added 2']);
    tabB.disconnect();
    await receiver.waitFor(() => receiver.on('presence-team').length === 4, "Ann's member_removed");
    bob.disconnect();
    await receiver.waitFor(() => receiver.on('presence-team').length === 6, "Bob's member_removed and vacated");
    expect(receiver.on('presence-team')).toEqual([
      'channel_occupied',
      'member_added 1',
      'member_added 2',
      'member_removed 1',
      'member_removed 2',
      'channel_vacated',
    ]);
  });

  it('a page reload within webhooks.leaveDelayMs sends nothing, even onto the other node', async () => {
    const page = await presenceAs('ann', nodeA, 'reload');
    await receiver.waitFor(() => receiver.on('presence-reload').length === 2, 'occupied and added');
    page.disconnect();
    await nodeA.waitForSubscribers('presence-reload', 0);
    // A reload takes a moment: long enough for a leave sent without delay to go out.
    await sleep(LEAVE_DELAY_MS / 2);
    await presenceAs('ann', nodeB, 'reload');
    await settled();
    expect(receiver.on('presence-reload')).toEqual(['channel_occupied', 'member_added 1']);
  });

  it("a killed node's members and channels are removed once its presence lease ran out", async () => {
    const doomed = fx.spawnNode();
    await waitReady(doomed);
    await presenceAs('ann', nodeA, 'ghosts');
    await presenceAs('bob', doomed.url, 'ghosts');
    await fx.echoOn('ghost-only', { on: doomed.url });
    await receiver.waitFor(
      () => receiver.on('presence-ghosts').length === 3 && receiver.on('ghost-only').length === 1,
      'the joins',
    );
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    // The lease, the leave delay, and a dispatcher lock the dead node may have held.
    await receiver.waitFor(
      () => receiver.on('presence-ghosts').length === 4 && receiver.on('ghost-only').length === 2,
      "the dead node's leaves",
      LEASE_MS + LEAVE_DELAY_MS + 10_000,
    );
    expect(receiver.on('presence-ghosts')).toEqual([
      'channel_occupied',
      'member_added 1',
      'member_added 2',
      'member_removed 2',
    ]);
    expect(receiver.on('ghost-only')).toEqual(['channel_occupied', 'channel_vacated']);
  });

  it('client_event for a whisper, with the sender socket and, on a presence channel, its user', async () => {
    const ann = await presenceAs('ann', nodeA, 'chat');
    await presenceAs('bob', nodeB, 'chat');
    ann.join('chat').whisper('typing', { name: 'Ann', path: 'a/b' });
    await receiver.waitFor(() => receiver.on('presence-chat').includes('client_event 1'), 'client_event');
    expect(receiver.events.filter((e) => e.name === 'client_event')).toEqual([
      {
        name: 'client_event',
        channel: 'presence-chat',
        event: 'client-typing',
        data: JSON.stringify({ name: 'Ann', path: 'a/b' }),
        socket_id: rawSocket(ann).id,
        user_id: '1',
      },
    ]);
  });
});
