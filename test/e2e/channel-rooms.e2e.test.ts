import { beforeAll, describe, expect, it } from '@jest/globals';
import { ChannelSubscriptions } from '../../src/channels/channel-subscriptions.js';
import { SocketServer } from '../../src/gateway/socket-server.js';
import { connected, type ClientVersion, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { sample, scrape } from '../support/http-api.js';
import { sleep, waitUntil } from '../support/ports.js';
import { joinPresence } from '../support/presence-view.js';
import { PUSHER_APP, PUSHER_CLIENTS_ENV, RawPusher } from '../support/pusher-client.js';
import {
  broadcasts,
  dataOf,
  offline,
  recordAll,
  recoverySuite,
  waitForBroadcasts,
  type Received,
} from '../support/recovery.js';
import type { TestRelay } from '../support/relay.js';

/**
 * socket.io puts every socket in a room named by its own id, and the Pusher endpoint its
 * connections likewise; channels are rooms too. A channel is only ever a channel all the same:
 * whatever its name (another connection's id, the subscriber's own), a broadcast to it reaches its
 * subscribers and nobody else, on every node; subscribing to it takes nothing addressed to a
 * connection (whispers, presence announcements and `toOthers` exclusions keep working); and the
 * HTTP API and the metrics count its subscribers only.
 */

const PREFIX = 'laravel_database_';
const ANN = { id: 1, info: { name: 'Ann' } };
const BOB = { id: 2, info: { name: 'Bob' } };

/** Every client subscribes to it: an event published to it after another has passed that one. */
const CONTROL = 'control';

/** An Echo client and everything it received, with the raw arguments. */
interface Recorded {
  echo: TestEcho;
  got: Received[];
  id: string;
}

for (const recovery of [true, false]) {
  describe(`a channel named like a connection is only a channel (recovery ${recovery ? 'on' : 'off'})`, () => {
    const fx = useFixture({
      nodes: 2,
      prefix: PREFIX,
      env: { ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV, ECHO_RELAY_RECOVERY: String(recovery) },
      auth: { ann: ANN, bob: BOB },
    });
    let nodes: TestRelay[];
    const pushers: RawPusher[] = [];

    beforeAll(() => {
      nodes = fx.nodes;
      fx.defer(() => pushers.splice(0).forEach((p) => p.close()));
    });

    const api = (i = 0): ReturnType<typeof fx.api> => fx.api(PUSHER_APP.appId, PUSHER_APP.key, i);

    /** A connected client on node `i`, recording everything, subscribed to `CONTROL`. */
    async function client(i: number, options: { version?: ClientVersion; token?: string } = {}): Promise<Recorded> {
      const echo = fx.client({ on: nodes[i], ...options });
      const got = recordAll(echo);
      echo.channel(CONTROL);
      await connected(echo);
      await joined(nodes[i], echo, CONTROL);
      return { echo, got, id: echo.socketId()! };
    }

    /** Subscribes the client to the public channel `name` and waits until its node has it in. */
    async function subscribe(i: number, who: Recorded, name: string): Promise<void> {
      who.echo.channel(name);
      await joined(nodes[i], who.echo, name);
    }

    /** A raw Pusher client on node `i`, subscribed to the public `CONTROL`. */
    async function pusher(i: number): Promise<RawPusher> {
      const client = await RawPusher.open(nodes[i].port);
      pushers.push(client);
      await client.socketId();
      await pusherSubscribe(client, CONTROL);
      return client;
    }

    /** Waits until every one of `clients` got `count` `probe` events on `CONTROL`. */
    async function controlled(clients: Recorded[], count = 1): Promise<void> {
      await Promise.all(clients.map((c) => waitForBroadcasts(c.got, CONTROL, 'probe', count, 5000)));
    }

    /** What `who` got on `channel`, of any event. */
    const on = (who: Recorded, channel: string): Received[] => who.got.filter(([, ch]) => ch === channel);

    it('a Laravel broadcast to a channel named like a socket id reaches its subscribers only, on every node', async () => {
      // One target per client version: socket.io-client 2's id is its Engine.IO id.
      const targets = [await client(0, { version: 4 }), await client(1, { version: 2 })];
      const subscribers = [await client(1), await client(0)];
      await subscribe(1, subscribers[0], targets[0].id);
      await subscribe(0, subscribers[1], targets[1].id);
      await fx.laravel.broadcast([targets[0].id, targets[1].id, CONTROL], 'probe', { via: 'laravel' });
      await controlled([...targets, ...subscribers]);
      expect(on(targets[0], targets[0].id)).toEqual([]);
      expect(on(targets[1], targets[1].id)).toEqual([]);
      expect(dataOf(subscribers[0].got, targets[0].id, 'probe')).toEqual([{ via: 'laravel' }]);
      expect(dataOf(subscribers[1].got, targets[1].id, 'probe')).toEqual([{ via: 'laravel' }]);
    });

    it('an HTTP API event to a channel named like a socket id reaches its subscribers only, on every node', async () => {
      const targets = [await client(0, { version: 4 }), await client(1, { version: 2 })];
      const subscribers = [await client(1), await client(0)];
      await subscribe(1, subscribers[0], targets[0].id);
      await subscribe(0, subscribers[1], targets[1].id);
      const answer = await api(1).publish({
        channels: [targets[0].id, targets[1].id, CONTROL],
        name: 'probe',
        data: { via: 'api' },
      });
      expect(answer.status).toBe(200);
      await controlled([...targets, ...subscribers]);
      expect(on(targets[0], targets[0].id)).toEqual([]);
      expect(on(targets[1], targets[1].id)).toEqual([]);
      expect(dataOf(subscribers[0].got, targets[0].id, 'probe')).toEqual([{ via: 'api' }]);
      expect(dataOf(subscribers[1].got, targets[1].id, 'probe')).toEqual([{ via: 'api' }]);
    });

    it("an HTTP API socket_id that names a channel leaves none of that channel's subscribers out", async () => {
      const clients = [await client(0), await client(1)];
      const answer = await api(1).publish({ channel: CONTROL, name: 'probe', data: { n: 1 }, socket_id: CONTROL });
      expect(answer.status).toBe(200);
      await controlled(clients);
      expect(clients.map((c) => dataOf(c.got, CONTROL, 'probe'))).toEqual([[{ n: 1 }], [{ n: 1 }]]);
    });

    describe("a client subscribed to a channel named like another socket's id", () => {
      /** Ann on node 0, and Bob on each node subscribed to the channel named by Ann's id. */
      async function annAndBobs(): Promise<{ ann: Recorded; bobs: Recorded[] }> {
        const ann = await client(0, { token: 'ann' });
        const bobs = [await client(0, { token: 'bob' }), await client(1, { token: 'bob' })];
        await subscribe(0, bobs[0], ann.id);
        await subscribe(1, bobs[1], ann.id);
        return { ann, bobs };
      }

      it("still gets that socket's whispers", async () => {
        const { ann, bobs } = await annAndBobs();
        const heard = bobs.map((bob) => {
          const got: unknown[] = [];
          bob.echo.private('chat.1').listenForWhisper('typing', (d: unknown) => got.push(d));
          return got;
        });
        ann.echo.private('chat.1');
        await joined(nodes[0], ann.echo, 'private-chat.1');
        await joined(nodes[0], bobs[0].echo, 'private-chat.1');
        await joined(nodes[1], bobs[1].echo, 'private-chat.1');
        ann.echo.private('chat.1').whisper('typing', { from: 'ann' });
        await waitUntil(() => heard.every((h) => h.length === 1), 5000, "both Bobs to hear Ann's whisper");
        expect(heard).toEqual([[{ from: 'ann' }], [{ from: 'ann' }]]);
      });

      it('is told when that socket joins a presence channel', async () => {
        const { ann, bobs } = await annAndBobs();
        const views = [await joinPresence(bobs[0].echo, 'room.1'), await joinPresence(bobs[1].echo, 'room.1')];
        await joinPresence(ann.echo, 'room.1');
        await waitUntil(() => views.every((v) => v.joining.length === 1), 5000, 'both Bobs to see Ann join');
        expect(views.map((v) => v.joining)).toEqual([[ANN.info], [ANN.info]]);
      });

      it('still gets the events that leave out only that socket (toOthers)', async () => {
        const { ann, bobs } = await annAndBobs();
        await fx.laravel.broadcast([CONTROL], 'others', { via: 'laravel' }, ann.id);
        await api(1).publish({ channel: CONTROL, name: 'others', data: { via: 'api' }, socket_id: ann.id });
        await api(1).publish({ channel: CONTROL, name: 'probe', data: {} });
        await controlled([ann, ...bobs]);
        await Promise.all(bobs.map((bob) => waitForBroadcasts(bob.got, CONTROL, 'others', 2, 5000)));
        for (const bob of bobs) {
          expect(new Set(dataOf(bob.got, CONTROL, 'others'))).toEqual(new Set([{ via: 'laravel' }, { via: 'api' }]));
        }
        expect(dataOf(ann.got, CONTROL, 'others')).toEqual([]);
      });
    });

    it('a socket that subscribed to and left a channel named by its own id still gets none of its own whispers or toOthers events', async () => {
      const ann = await client(0, { token: 'ann' });
      const bob = await client(1, { token: 'bob' });
      await subscribe(0, ann, ann.id);
      ann.echo.leaveChannel(ann.id);
      await joined(nodes[0], ann.echo, ann.id, false);
      const annHeard: unknown[] = [];
      const bobHeard: unknown[] = [];
      ann.echo.private('chat.2').listenForWhisper('typing', (d: unknown) => annHeard.push(d));
      bob.echo.private('chat.2').listenForWhisper('typing', (d: unknown) => bobHeard.push(d));
      await joined(nodes[0], ann.echo, 'private-chat.2');
      await joined(nodes[1], bob.echo, 'private-chat.2');
      ann.echo.private('chat.2').whisper('typing', { from: 'ann' });
      await waitUntil(() => bobHeard.length === 1, 5000, "Bob to hear Ann's whisper");
      bob.echo.private('chat.2').whisper('typing', { from: 'bob' });
      await api(1).publish({ channel: CONTROL, name: 'others', data: {}, socket_id: ann.id });
      await api(1).publish({ channel: CONTROL, name: 'probe', data: {} });
      await waitUntil(() => annHeard.length >= 1, 5000, "Ann to hear Bob's whisper");
      await controlled([ann, bob]);
      await sleep(100); // her own whisper, had it come back, would have come before Bob's
      expect(annHeard).toEqual([{ from: 'bob' }]);
      expect(dataOf(ann.got, CONTROL, 'others')).toEqual([]);
      expect(dataOf(bob.got, CONTROL, 'others')).toEqual([{}]);
    });

    it('the HTTP API counts the subscribers of a channel named like a socket id, and only them, on every node', async () => {
      const ann = await client(0);
      const bob = await client(1);
      for (let i = 0; i < nodes.length; i++) {
        expect((await api(i).get(`/channels/${ann.id}`)).body).toEqual({ subscription_count: 0, occupied: false });
      }
      await subscribe(1, bob, ann.id);
      for (let i = 0; i < nodes.length; i++) {
        expect((await api(i).get(`/channels/${ann.id}`)).body).toEqual({ subscription_count: 1, occupied: true });
        const listed = (await api(i).get('/channels')).body as { channels: Record<string, unknown> };
        expect(listed.channels[ann.id]).toEqual({ subscription_count: 1, occupied: true });
        expect(Object.keys(listed.channels)).not.toContain(bob.id);
      }
    });

    it("the subscriptions gauge counts a subscription to a channel named by the subscriber's own id", async () => {
      const quiet = await fx.startNode();
      const echo = fx.client({ on: quiet });
      await connected(echo);
      const id = echo.socketId()!;
      const publicSubscriptions = async (): Promise<number> =>
        sample(await scrape(quiet.apiUrl), 'echo_relay_subscriptions', { type: 'public' });
      const before = await publicSubscriptions();
      echo.channel(id);
      await joined(quiet, echo, id);
      expect(await publicSubscriptions()).toBe(before + 1);
      echo.leaveChannel(id);
      await joined(quiet, echo, id, false);
      expect(await publicSubscriptions()).toBe(before);
    });

    describe('with Pusher connections', () => {
      it("an HTTP API event to a channel named like a Pusher connection's socket_id does not reach it", async () => {
        const target = await pusher(0);
        const answer = await api(1).publish({ channels: [target.id!, CONTROL], name: 'probe', data: {} });
        expect(answer.status).toBe(200);
        await target.next((f) => f.event === 'probe' && f.channel === CONTROL);
        await sleep(100);
        expect(target.frames.filter((f) => f.channel === target.id)).toEqual([]);
      });

      it('a Pusher client subscribed to a channel named like a socket id gets it; that socket does not', async () => {
        const socket = await client(0);
        const subscriber = await pusher(1);
        await pusherSubscribe(subscriber, socket.id);
        await fx.laravel.broadcast([socket.id, CONTROL], 'probe', { via: 'laravel' });
        await api(0).publish({ channels: [socket.id, CONTROL], name: 'probe', data: { via: 'api' } });
        await controlled([socket], 2);
        const frames = [
          await subscriber.next((f) => f.event === 'probe' && f.channel === socket.id),
          await subscriber.next((f) => f.event === 'probe' && f.channel === socket.id),
        ];
        expect(new Set(frames.map((f) => f.data))).toEqual(new Set([{ via: 'laravel' }, { via: 'api' }]));
        expect(on(socket, socket.id)).toEqual([]);
      });

      it('a socket.io client subscribed to a channel named like a Pusher socket_id gets it; that connection does not', async () => {
        const connection = await pusher(0);
        const subscriber = await client(1);
        await subscribe(1, subscriber, connection.id!);
        await fx.laravel.broadcast([connection.id!, CONTROL], 'probe', { via: 'laravel' });
        await api(0).publish({ channels: [connection.id!, CONTROL], name: 'probe', data: { via: 'api' } });
        await controlled([subscriber], 2);
        await waitForBroadcasts(subscriber.got, connection.id!, 'probe', 2, 5000);
        await connection.next((f) => f.event === 'probe' && f.channel === CONTROL);
        await connection.next((f) => f.event === 'probe' && f.channel === CONTROL);
        expect(connection.frames.filter((f) => f.channel === connection.id)).toEqual([]);
      });
    });
  });
}

describe('a channel named like a socket id across a recovery', () => {
  const suite = recoverySuite();
  const { fx, roaming } = suite;

  it('a recovered socket is still not reached through its id, and keeps its channel named like another id', async () => {
    const other = fx.client();
    const otherGot = recordAll(other);
    other.channel(CONTROL);
    await connected(other);
    const otherId = other.socketId()!;
    const { echo, got } = roaming();
    echo.channel(CONTROL);
    echo.channel(otherId);
    await connected(echo);
    await joined(fx.relay, echo, otherId);
    const id = echo.socketId()!;

    const back = await offline(echo, suite.proxy(), () => Promise.resolve());
    expect(back).toMatchObject({ id, recovered: true });
    await joined(fx.relay, echo, otherId);

    await fx.laravel.broadcast([otherId, id, CONTROL], 'probe', { n: 1 });
    await waitForBroadcasts(got, CONTROL, 'probe', 1);
    await waitForBroadcasts(otherGot, CONTROL, 'probe', 1);
    expect(dataOf(got, otherId, 'probe')).toEqual([{ n: 1 }]);
    expect(broadcasts(got, id, 'probe')).toEqual([]);
    expect(otherGot.filter(([, channel]) => channel === otherId || channel === id)).toEqual([]);
  });
});

/**
 * Waits until `relay` has the client's socket in `channel` (or, with `member` false, out of it)
 * with nothing of it in flight: asked of the subscriptions themselves, not of room sizes, which
 * a channel named like a socket id is about.
 */
async function joined(relay: TestRelay, echo: TestEcho, channel: string, member = true): Promise<void> {
  const subscriptions = relay.app.get(ChannelSubscriptions);
  const sockets = relay.app.get(SocketServer);
  await waitUntil(
    () => {
      const socket = sockets.io.sockets.sockets.get(echo.socketId() ?? '');
      return socket !== undefined && !subscriptions.busy(socket) && subscriptions.isMember(socket, channel) === member;
    },
    5000,
    `${echo.socketId()} ${member ? 'in' : 'out of'} ${channel}`,
  );
}

/** Subscribes a raw Pusher client to the public `channel` and waits for Pusher's confirmation. */
async function pusherSubscribe(client: RawPusher, channel: string): Promise<void> {
  client.send({ event: 'pusher:subscribe', data: { channel } });
  await client.next((f) => f.event === 'pusher_internal:subscription_succeeded' && f.channel === channel);
}
