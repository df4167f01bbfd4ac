import { beforeAll, describe, expect, it } from '@jest/globals';
import { useFixture } from '../support/fixture.js';
import { sleep, waitUntil } from '../support/ports.js';
import { joinPresence } from '../support/presence-view.js';
import { PUSHER_APP, PUSHER_CLIENTS_ENV, RawPusher } from '../support/pusher-client.js';
import type { TestRelay } from '../support/relay.js';
import { NodeConnections } from '../../src/limits/node-connections.js';
import { rawHandshake } from '../support/handshake.js';
import { answerOf, pusherSdk } from '../support/pusher-api.js';

const ANN = { id: 1, info: { name: 'Ann' } };
const BOB = { id: 2, info: { name: 'Bob' } };

/** A raw Pusher client on `relay`, subscribed to `channel` with the app's signature. */
async function subscribed(relay: TestRelay, authUrl: string, channel: string, token = 'bob'): Promise<RawPusher> {
  const client = await RawPusher.open(relay.port);
  const socketId = await client.socketId();
  const res = await fetch(`${authUrl}/broadcasting/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` },
    body: new URLSearchParams({ socket_id: socketId, channel_name: channel }).toString(),
  });
  const answer = channel.startsWith('private-') || channel.startsWith('presence-') ? await res.json() : {};
  client.send({ event: 'pusher:subscribe', data: { channel, ...(answer as object) } });
  await client.next((f) => f.event === 'pusher_internal:subscription_succeeded' && f.channel === channel);
  return client;
}

describe('the Pusher protocol across two nodes', () => {
  const fx = useFixture({
    nodes: 2,
    env: { ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV },
    auth: { ann: ANN, bob: BOB },
  });
  let nodeA: TestRelay;
  let nodeB: TestRelay;
  const opened: RawPusher[] = [];

  beforeAll(() => {
    [nodeA, nodeB] = fx.nodes;
    fx.app.pusherApp = PUSHER_APP;
    fx.defer(() => opened.splice(0).forEach((c) => c.close()));
  });

  const open = async (relay: TestRelay, channel: string, token?: string): Promise<RawPusher> => {
    const client = await subscribed(relay, fx.app.url, channel, token);
    opened.push(client);
    return client;
  };

  it('delivers an HTTP API event published on one node to Pusher clients of both, exactly once', async () => {
    const onA = await open(nodeA, 'private-api.1');
    const onB = await open(nodeB, 'private-api.1');
    const socketIo = await fx.echoAs('ann', { on: nodeB });
    const ioGot: unknown[] = [];
    socketIo.private('api.1').listen('.Paid', (d: unknown) => ioGot.push(d));
    await nodeB.waitForSubscribers('private-api.1', 2);
    const answer = await fx
      .api(PUSHER_APP.appId, PUSHER_APP.key)
      .publish({ channel: 'private-api.1', name: 'Paid', data: { amount: 5 } });
    expect(answer.status).toBeLessThan(300);
    for (const client of [onA, onB]) {
      expect((await client.next((f) => f.event === 'Paid')).data).toEqual({ amount: 5 });
    }
    await waitUntil(() => ioGot.length === 1, 5000, 'the socket.io client');
    await sleep(300); // a second copy would have arrived by now
    expect([onA, onB].map((c) => c.frames.filter((f) => f.event === 'Paid').length)).toEqual([0, 0]);
    expect(ioGot).toEqual([{ amount: 5 }]);
  });

  it('leaves out the Pusher socket an HTTP API event names, on whichever node it is', async () => {
    const sender = await open(nodeB, 'orders.api');
    const other = await open(nodeB, 'orders.api');
    const api = fx.api(PUSHER_APP.appId, PUSHER_APP.key);
    await api.publish({ channel: 'orders.api', name: 'Made', data: {}, socket_id: sender.id });
    await other.next((f) => f.event === 'Made');
    await sleep(300);
    expect(sender.frames.filter((f) => f.event === 'Made')).toEqual([]);
  });

  it('carries whispers between nodes and protocols, each once', async () => {
    const pusherOnB = await open(nodeB, 'private-room.9');
    const ann = await fx.echoAs('ann', { on: nodeA });
    const annGot: unknown[] = [];
    ann.private('room.9').listenForWhisper('typing', (d: unknown) => annGot.push(d));
    const pusherOnA = await open(nodeA, 'private-room.9');
    await nodeA.waitForSubscribers('private-room.9', 2);
    ann.private('room.9').whisper('typing', { from: 'socket.io' });
    for (const client of [pusherOnA, pusherOnB]) {
      expect((await client.next((f) => f.event === 'client-typing')).data).toEqual({ from: 'socket.io' });
    }
    pusherOnB.send({ event: 'client-typing', channel: 'private-room.9', data: { from: 'pusher' } });
    await waitUntil(() => annGot.length === 1, 5000, 'the whisper on node A');
    expect((await pusherOnA.next((f) => f.event === 'client-typing')).data).toEqual({ from: 'pusher' });
    await sleep(300);
    expect(annGot).toEqual([{ from: 'pusher' }]);
    expect(pusherOnB.frames.filter((f) => f.event === 'client-typing')).toEqual([]);
    expect(pusherOnA.frames.filter((f) => f.event === 'client-typing')).toEqual([]);
  });

  it('announces presence members across nodes and protocols', async () => {
    const ann = await fx.echoAs('ann', { on: nodeA });
    const annView = await joinPresence(ann, 'team.3');
    const bob = await open(nodeB, 'presence-team.3', 'bob');
    await waitUntil(() => annView.joining.length === 1, 5000, 'ann told of bob');
    expect(annView.joining).toEqual([BOB.info]);
    ann.disconnect();
    const removed = await bob.next((f) => f.event === 'pusher_internal:member_removed');
    expect(removed).toMatchObject({ channel: 'presence-team.3', data: { user_id: '1' } });
  });

  it("delivers the Pusher API's events (single and batch) to Pusher clients of every node once, minus socket_id", async () => {
    const onA = await open(nodeA, 'private-sdk.1');
    const onB = await open(nodeB, 'private-sdk.1');
    const sender = await open(nodeB, 'private-sdk.1');
    const sdk = pusherSdk(nodeA.apiUrl, PUSHER_APP);
    const single = await answerOf(sdk.trigger('private-sdk.1', 'Shipped', { n: 1 }, { socket_id: sender.id }));
    expect(single.status).toBe(200);
    const batch = await answerOf(
      sdk.triggerBatch([
        { channel: 'private-sdk.1', name: 'Shipped', data: { n: 2 } },
        { channel: 'private-sdk.1', name: 'Shipped', data: 'plain text' },
      ]),
    );
    expect(batch.status).toBe(200);
    for (const client of [onA, onB]) {
      const got = [];
      for (let i = 0; i < 3; i++) got.push((await client.next((f) => f.event === 'Shipped')).data);
      expect(got).toEqual([{ n: 1 }, { n: 2 }, 'plain text']);
    }
    await sleep(300);
    expect([onA, onB].map((c) => c.frames.filter((f) => f.event === 'Shipped').length)).toEqual([0, 0]);
    const senderGot = sender.frames.filter((f) => f.event === 'Shipped').map((f) => f.data);
    expect(senderGot).toEqual([{ n: 2 }, 'plain text']);
  });

  it('counts Pusher connections of every node in both HTTP APIs', async () => {
    await open(nodeA, 'counted.1');
    await open(nodeB, 'counted.1');
    await open(nodeB, 'counted.2');
    const socketIo = await fx.echoOn('counted.1', { on: nodeA });
    await nodeA.waitForSubscribers('counted.1', 2);
    const sdk = pusherSdk(nodeB.apiUrl, PUSHER_APP);
    const one = await answerOf(sdk.get({ path: '/channels/counted.1', params: { info: 'subscription_count' } }));
    expect(one.body).toEqual({ occupied: true, subscription_count: 3 });
    const list = await answerOf(
      sdk.get({ path: '/channels', params: { filter_by_prefix: 'counted.', info: 'subscription_count' } }),
    );
    expect(list.body).toEqual({
      channels: { 'counted.1': { subscription_count: 3 }, 'counted.2': { subscription_count: 1 } },
    });
    const old = await fx.api(PUSHER_APP.appId, PUSHER_APP.key, 1).get('/channels/counted.2');
    expect(old.body).toMatchObject({ subscription_count: 1, occupied: true });
    socketIo.disconnect();
  });

  it("closes a user's Pusher connections on every node for the Pusher API's terminate_connections (4009)", async () => {
    const bobOnB = await open(nodeB, 'presence-ops.1', 'bob');
    const annOnB = await open(nodeB, 'presence-ops.1', 'ann');
    const bobOnA = await open(nodeA, 'presence-ops.1', 'bob');
    const answer = await answerOf(pusherSdk(nodeA.apiUrl, PUSHER_APP).terminateUserConnections(String(BOB.id)));
    expect(answer.status).toBe(200);
    expect((await bobOnB.closedWith()).code).toBe(4009);
    expect((await bobOnA.closedWith()).code).toBe(4009);
    const removed = await annOnB.next((f) => f.event === 'pusher_internal:member_removed');
    expect(removed.data).toEqual({ user_id: String(BOB.id) });
    expect(annOnB.closed).toBeUndefined();
  });
});

describe('Pusher activity checks', () => {
  const fx = useFixture({
    env: {
      ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV,
      ECHO_RELAY_PUSHER_ACTIVITY_TIMEOUT: '1',
      ECHO_RELAY_PUSHER_PONG_TIMEOUT: '1',
    },
  });

  it('pings an idle client, keeps one that answers, and closes one that does not with 4201', async () => {
    const answering = await RawPusher.open(fx.relay.port);
    const silent = await RawPusher.open(fx.relay.port);
    fx.defer(() => [answering, silent].forEach((c) => c.close()));
    const established = await answering.next((f) => f.event === 'pusher:connection_established');
    expect(established.data).toMatchObject({ activity_timeout: 1 });
    for (let i = 0; i < 3; i++) {
      await answering.next((f) => f.event === 'pusher:ping', 4000);
      answering.send({ event: 'pusher:pong', data: {} });
    }
    expect(answering.closed).toBeUndefined();
    const closed = await silent.closedWith(1000);
    expect(closed.code).toBe(4201);
    expect(silent.frames.some((f) => f.event === 'pusher:ping')).toBe(true);
  });
});

describe('Pusher connections and the connection limits', () => {
  const fx = useFixture({ env: { ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV, ECHO_RELAY_MAX_CONNECTIONS: '2' } });

  it('counts both protocols against limits.maxConnections; a Pusher client over it gets 4100 (back off)', async () => {
    const socketIo = await fx.echo();
    const first = await RawPusher.open(fx.relay.port);
    fx.defer(() => first.close());
    await first.socketId();
    const over = await RawPusher.open(fx.relay.port);
    expect((await over.next((f) => f.event === 'pusher:error')).data).toMatchObject({ code: 4100 });
    expect((await over.closedWith()).code).toBe(4100);
    expect((await rawHandshake(fx.relay.url, 'websocket')).status).toBe(503);
    first.close();
    socketIo.disconnect();
    const counted = fx.relay.app.get(NodeConnections).limiter!;
    await waitUntil(() => counted.count() === 0, 5000, 'both slots given back');
    const later = await RawPusher.open(fx.relay.port);
    fx.defer(() => later.close());
    await later.socketId();
    const refused = (await fx.relay.metrics.connectionsRefused.get()).values;
    expect(refused.find((v) => v.labels.reason === 'max_connections')?.value).toBe(2);
  });
});
