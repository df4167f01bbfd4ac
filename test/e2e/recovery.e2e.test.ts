import { beforeAll, describe, expect, it, jest } from '@jest/globals';
import { RecoveryLog } from '../../src/recovery/recovery-log.js';
import { SocketServer } from '../../src/gateway/socket-server.js';
import { connected } from '../support/echo-client.js';
import type { ApiClient } from '../support/http-api.js';
import { byJson } from '../support/presence-view.js';
import {
  broadcasts,
  clientSocket,
  dataOf,
  metric,
  offline,
  offsetsAscend,
  recordAll,
  RECOVERIES,
  REPLAYED,
  sequenced,
  waitForBroadcasts,
  presenceChanges,
  presenceSnapshots,
  recoverySuite,
  sessionKey,
  ANN,
  APP,
  BOB,
} from '../support/recovery.js';
import { sleep, waitUntil } from '../support/ports.js';
import { startRelay, type TestRelay } from '../support/relay.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

/**
 * Connection-state recovery (issue #12) on one node: a socket.io-client 4 client behind a TCP proxy
 * loses its transport, events are published while it is away, and it comes back as the same socket
 * with every missed broadcast. An observer connected directly to the node sees every broadcast
 * live; once it has the gap's events they are in the history, so the client may come back.
 */
describe('recovering a dropped connection on one node', () => {
  const suite = recoverySuite();
  const { fx, roaming, observer, tick } = suite;
  let proxy: TcpProxy;
  let api: ApiClient;

  beforeAll(() => {
    proxy = suite.proxy();
    api = fx.api(APP.appId, APP.key);
  });

  async function publish(channel: string, n: number | string, socketId?: string): Promise<void> {
    const answer = await api.publish({ channel, name: 'tick', data: { n }, socket_id: socketId });
    expect(answer.status).toBe(200);
  }

  it('replays what was published during the drop once, in order, before newer events, to the same socket', async () => {
    const { echo, got } = roaming();
    echo.channel('orders');
    await connected(echo);
    const seen = await observer('orders');
    await fx.relay.waitForSubscribers('orders', 2);
    // Each published once the last is in the history: Laravel's and the API's have no order otherwise.
    const inOrder = (publishing: () => Promise<void>): Promise<void> => sequenced(seen, 'orders', 'tick', publishing);
    await inOrder(() => tick('orders', 1));
    await inOrder(() => publish('orders', 2));
    await waitForBroadcasts(got, 'orders', 'tick', 2);
    const id = echo.socketId();
    const before = await metric(fx.relay.apiUrl, RECOVERIES, { result: 'recovered' });
    const replayedBefore = await metric(fx.relay.apiUrl, REPLAYED);

    const back = await offline(echo, proxy, async () => {
      await fx.relay.waitForSubscribers('orders', 1);
      await inOrder(() => tick('orders', 3));
      await inOrder(() => publish('orders', 4));
      await inOrder(() => tick('orders', 5));
    });

    expect(back).toMatchObject({ id, recovered: true });
    await inOrder(() => tick('orders', 6));
    await inOrder(() => publish('orders', 'end'));
    await waitForBroadcasts(got, 'orders', 'tick', 7);
    expect(dataOf(got, 'orders', 'tick')).toEqual([1, 2, 3, 4, 5, 6, 'end'].map((n) => ({ n })));
    // Each carries its history offset last; the replayed ones carry the offsets the observer saw live.
    expect(offsetsAscend(broadcasts(got, 'orders', 'tick'))).toBe(true);
    expect(broadcasts(got, 'orders', 'tick')).toEqual(broadcasts(seen, 'orders', 'tick'));
    expect((await metric(fx.relay.apiUrl, RECOVERIES, { result: 'recovered' })) - before).toBe(1);
    expect((await metric(fx.relay.apiUrl, REPLAYED)) - replayedBefore).toBe(3);
    // Echo's re-subscribe after the reconnection did not add the socket to the room a second time.
    expect(fx.relay.gateway.localSubscriberCount('orders')).toBe(2);
  });

  it('a client back on a node that has not read the history yet waits for that read and recovers', async () => {
    const { echo, got } = roaming();
    echo.channel('restarts');
    await connected(echo);
    const seen = await observer('restarts');
    await fx.relay.waitForSubscribers('restarts', 2);
    await sequenced(seen, 'restarts', 'tick', () => publish('restarts', 1));
    await waitForBroadcasts(got, 'restarts', 'tick', 1);
    const id = echo.socketId();

    // The node the client comes back to has just started: its first read of the history is held
    // (the read a reconnect storm delays), so its feed has no position yet.
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const { newest } = Object.getOwnPropertyDescriptors(RecoveryLog.prototype);
    const read = newest.value as RecoveryLog['newest'];
    const held = jest.spyOn(RecoveryLog.prototype, 'newest').mockImplementation(async function (
      this: RecoveryLog,
      ...args: Parameters<RecoveryLog['newest']>
    ) {
      await gate;
      return read.apply(this, args);
    });
    try {
      const started: TestRelay = await startRelay({ env: fx.env });
      fx.defer(() => started.stop());
      expect(await started.ready()).toBe(503);
      const engine = started.app.get(SocketServer).io.engine;
      // Once the client's transport is on the new node, its CONNECT (with its session) follows at
      // once: given a moment, a restore that does not wait has failed and thrown the session away.
      const opening = waitUntil(() => engine.clientsCount > 0, 10_000, 'the client on the new node')
        .then(() => sleep(300))
        .then(openGate);
      const back = await offline(echo, proxy, async () => {
        await sequenced(seen, 'restarts', 'tick', () => publish('restarts', 2));
        proxy.target = started.port;
      });
      await opening;

      expect(back).toMatchObject({ id, recovered: true });
      await waitUntil(async () => (await started.ready()) === 200, 5000, 'the new node ready');
      await publish('restarts', 3);
      await waitForBroadcasts(got, 'restarts', 'tick', 3);
      expect(dataOf(got, 'restarts', 'tick')).toEqual([1, 2, 3].map((n) => ({ n })));
      expect(await metric(started.apiUrl, RECOVERIES, { result: 'recovered' })).toBe(1);
    } finally {
      openGate();
      held.mockRestore();
      proxy.target = fx.relay.port;
    }
  });

  it('recovers a client that had not received any broadcast before the drop', async () => {
    const { echo, got } = roaming();
    echo.channel('quiet');
    await connected(echo);
    const seen = await observer('quiet');
    await fx.relay.waitForSubscribers('quiet', 2);
    const id = echo.socketId();

    const back = await offline(echo, proxy, async () => {
      await fx.relay.waitForSubscribers('quiet', 1);
      await sequenced(seen, 'quiet', 'tick', () => tick('quiet', 1));
      await sequenced(seen, 'quiet', 'tick', () => publish('quiet', 2));
    });

    expect(back).toMatchObject({ id, recovered: true });
    await tick('quiet', 3);
    await waitForBroadcasts(got, 'quiet', 'tick', 3);
    expect(dataOf(got, 'quiet', 'tick')).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('a channel joined after the last broadcast received: the replay holds only what it got since the join', async () => {
    const { echo, got } = roaming();
    echo.channel('orders');
    await connected(echo);
    const seenOrders = await observer('orders');
    const seenLater = await observer('joined-later');
    await fx.relay.waitForSubscribers('orders', 2);
    await sequenced(seenOrders, 'orders', 'tick', () => tick('orders', 1));
    await waitForBroadcasts(got, 'orders', 'tick', 1);
    // Published before the client joins: the client's offset (from orders) is older than it.
    await sequenced(seenLater, 'joined-later', 'tick', () => tick('joined-later', 'before the join'));
    echo.channel('joined-later');
    await fx.relay.waitForSubscribers('joined-later', 2);
    const id = echo.socketId();

    const back = await offline(echo, proxy, async () => {
      await fx.relay.waitForSubscribers('joined-later', 1);
      await sequenced(seenLater, 'joined-later', 'tick', () => tick('joined-later', 'missed'));
    });

    expect(back).toMatchObject({ id, recovered: true });
    await tick('joined-later', 'after');
    await waitForBroadcasts(got, 'joined-later', 'tick', 2);
    expect(dataOf(got, 'joined-later', 'tick')).toEqual([{ n: 'missed' }, { n: 'after' }]);
    expect(dataOf(got, 'orders', 'tick')).toEqual([{ n: 1 }]);
  });

  it('toOthers(): events from the recovered socket itself are neither replayed nor delivered after', async () => {
    const { echo, got } = roaming();
    echo.channel('chat');
    await connected(echo);
    const seen = await observer('chat');
    await fx.relay.waitForSubscribers('chat', 2);
    const id = echo.socketId()!;

    const back = await offline(echo, proxy, async () => {
      await fx.relay.waitForSubscribers('chat', 1);
      await tick('chat', 'gap-mine-laravel', id);
      await tick('chat', 'gap-other');
      await publish('chat', 'gap-mine-http', id);
      await waitForBroadcasts(seen, 'chat', 'tick', 3);
    });

    expect(back).toMatchObject({ id, recovered: true });
    // X-Socket-ID still names the recovered socket: it is left out, by id, over Redis and HTTP.
    await tick('chat', 'live-mine-laravel', id);
    await publish('chat', 'live-mine-http', id);
    await tick('chat', 'end');
    await waitForBroadcasts(seen, 'chat', 'tick', 6);
    await waitForBroadcasts(got, 'chat', 'tick', 2);
    expect(dataOf(got, 'chat', 'tick')).toEqual([{ n: 'gap-other' }, { n: 'end' }]);
  });

  it('keeps a private channel through the drop without asking the app again', async () => {
    const { echo, got } = roaming({ token: 'ann' });
    echo.private('orders.7');
    await connected(echo);
    const carol = fx.client({ token: 'carol' });
    const seen = recordAll(carol);
    carol.private('orders.7');
    await connected(carol);
    await fx.relay.waitForSubscribers('private-orders.7', 2);
    const id = echo.socketId();
    const authCalls = (): number => fx.app.callsFor('private-orders.7').filter((c) => c.form.socket_id === id).length;
    expect(authCalls()).toBe(1);

    const back = await offline(echo, proxy, async () => {
      await fx.relay.waitForSubscribers('private-orders.7', 1);
      await sequenced(seen, 'private-orders.7', 'tick', () => tick('private-orders.7', 1));
      await sequenced(seen, 'private-orders.7', 'tick', () => publish('private-orders.7', 2));
    });

    expect(back).toMatchObject({ id, recovered: true });
    // Echo re-subscribes after a reconnection; a subscribe sent after it is handled after it, so
    // by the time a probe channel is joined a re-authorisation would have been asked for.
    echo.private('probe.7');
    await fx.relay.waitForSubscribers('private-probe.7', 1);
    await tick('private-orders.7', 3);
    await waitForBroadcasts(got, 'private-orders.7', 'tick', 3);
    expect(dataOf(got, 'private-orders.7', 'tick')).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(authCalls()).toBe(1);
    expect(fx.relay.gateway.localSubscriberCount('private-orders.7')).toBe(2);
  });

  it('a whisper with a text payload before the drop does not cost the recovery', async () => {
    // socket.io-client takes the last argument of ANY event as the offset when it is a string;
    // a whisper's data is whatever the sender's page passed, here a plain string.
    const { echo: bob, got } = roaming({ token: 'bob' });
    bob.private('typing.1');
    await connected(bob);
    const ann = fx.client({ token: 'ann' });
    const seen = recordAll(ann);
    ann.private('typing.1');
    await connected(ann);
    await fx.relay.waitForSubscribers('private-typing.1', 2);
    await tick('private-typing.1', 1);
    await waitForBroadcasts(got, 'private-typing.1', 'tick', 1);
    ann.private('typing.1').whisper('typing', 'Ann is typing');
    await waitUntil(() => got.some(([event]) => event === 'client-typing'), 5000, 'the whisper');
    const id = bob.socketId();

    const back = await offline(bob, proxy, async () => {
      await fx.relay.waitForSubscribers('private-typing.1', 1);
      await tick('private-typing.1', 2);
      await waitForBroadcasts(seen, 'private-typing.1', 'tick', 2);
    });

    expect(back).toMatchObject({ id, recovered: true });
    await tick('private-typing.1', 3);
    await waitForBroadcasts(got, 'private-typing.1', 'tick', 3);
    expect(dataOf(got, 'private-typing.1', 'tick')).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('presence without a leave grace: the others see the member leave, then join again on recovery', async () => {
    const ann = fx.client({ token: 'ann' });
    const annGot = recordAll(ann);
    await connected(ann);
    ann.join('lobby');
    await fx.relay.waitForSubscribers('presence-lobby', 1);
    const { echo: bob, got: bobGot } = roaming({ token: 'bob' });
    bob.join('lobby');
    await connected(bob);
    await waitUntil(() => presenceChanges(annGot).length === 1, 5000, "Bob's joining");
    // Bob's own member list too: one still in flight through the proxy would be lost with the drop.
    await waitUntil(() => presenceSnapshots(bobGot).length === 1, 5000, 'presence:subscribed for Bob');
    const id = bob.socketId();

    const back = await offline(bob, proxy, async () => {
      await waitUntil(() => presenceChanges(annGot).length === 2, 5000, "Bob's leaving");
    });

    expect(back).toMatchObject({ id, recovered: true });
    await waitUntil(() => presenceChanges(annGot).length === 3, 5000, "Bob's joining again");
    const bobMember = { user_id: BOB.id, user_info: BOB.info };
    expect(presenceChanges(annGot)).toEqual([
      ['presence:joining', 'presence-lobby', bobMember],
      ['presence:leaving', 'presence-lobby', bobMember],
      ['presence:joining', 'presence-lobby', bobMember],
    ]);
    // The recovered socket is told who is there now: it may have missed joins and leaves.
    await waitUntil(() => presenceSnapshots(bobGot).length === 2, 5000, 'presence:subscribed after recovery');
    expect(byJson(presenceSnapshots(bobGot)[1])).toEqual(byJson([{ user_id: ANN.id, user_info: ANN.info }, bobMember]));
  });

  it('a session ends with its socket when the client or the server disconnects it; a drop keeps it', async () => {
    const redis = fx.laravel.redis;
    const sessionOf = async (): Promise<{ echo: ReturnType<typeof roaming>['echo']; pid: string }> => {
      const { echo } = roaming();
      echo.channel('ended');
      await connected(echo);
      const pid = clientSocket(echo)._pid!;
      await waitUntil(async () => (await redis.exists(sessionKey(pid))) === 1, 5000, 'the session to be saved');
      return { echo, pid };
    };

    const byClient = await sessionOf();
    byClient.echo.disconnect();
    await waitUntil(async () => (await redis.exists(sessionKey(byClient.pid))) === 0, 5000, 'the session to go');

    const byServer = await sessionOf();
    await fx.relay.waitForSubscribers('ended', 1);
    fx.relay.app.get(SocketServer).io.sockets.sockets.get(byServer.echo.socketId()!)!.disconnect(true);
    await waitUntil(async () => (await redis.exists(sessionKey(byServer.pid))) === 0, 5000, 'the session to go');

    // A drop keeps it for the client to come back (the specs above recover from it).
    const dropped = await sessionOf();
    await offline(dropped.echo, proxy, async () => {
      await fx.relay.waitForSubscribers('ended', 0);
      expect(await redis.exists(sessionKey(dropped.pid))).toBe(1);
    });
    dropped.echo.disconnect();
  });

  it('socket.io-client 2 gets no offset and no recovery: a fresh socket, re-subscribed by Echo', async () => {
    const { echo, got } = roaming({ version: 2 });
    echo.channel('legacy');
    await connected(echo);
    const seen = await observer('legacy');
    await fx.relay.waitForSubscribers('legacy', 2);
    await sequenced(seen, 'legacy', 'tick', () => tick('legacy', 1));
    await sequenced(seen, 'legacy', 'tick', () => publish('legacy', 2));
    await waitForBroadcasts(got, 'legacy', 'tick', 2);
    const id = echo.socketId();

    const back = await offline(echo, proxy, async () => {
      await fx.relay.waitForSubscribers('legacy', 1);
      await tick('legacy', 'missed');
      await waitForBroadcasts(seen, 'legacy', 'tick', 3);
    });

    expect(back.recovered).toBe(false);
    expect(back.id).not.toBe(id);
    await fx.relay.waitForSubscribers('legacy', 2);
    await tick('legacy', 3);
    await waitForBroadcasts(got, 'legacy', 'tick', 3);
    expect(dataOf(got, 'legacy', 'tick')).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    // (event, channel, data) exactly as laravel-echo-server sends them: nothing after the data.
    expect(broadcasts(got, 'legacy', 'tick').every((rest) => rest.length === 1)).toBe(true);
    expect(clientSocket(echo)._pid).toBeUndefined();
  });
});
