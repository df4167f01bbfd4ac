import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { PresenceDirectory } from '../../src/channels/presence-directory.js';
import {
  CLIENT_VERSIONS,
  connected,
  createEcho,
  rawSocket,
  recordEvents,
  type ClientVersion,
  type TestEcho,
} from '../support/echo-client.js';
import { LaravelAuthStub } from '../support/laravel-auth-stub.js';
import { LaravelPublisher } from '../support/laravel-publisher.js';
import { waitUntil } from '../support/ports.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startReadyRelay, type TestRelay } from '../support/relay.js';

const PREFIX = 'laravel_database_';
const ANN = { id: 1, info: { name: 'Ann' } };
const BOB = { id: 'b-2', info: { name: 'Bob' } };

describe('presence channels on one node', () => {
  let redis: TestRedis;
  let laravel: LaravelPublisher;
  let app: LaravelAuthStub;
  let relay: TestRelay;
  let directory: PresenceDirectory;
  const clients: TestEcho[] = [];

  before(async () => {
    redis = await startRedis();
    laravel = new LaravelPublisher(redis.url, PREFIX);
    app = await LaravelAuthStub.start();
    app.users.set('ann', ANN);
    app.users.set('bob', BOB);
    relay = await startReadyRelay({
      env: { REDIS_URL: redis.url, REDIS_PREFIX: PREFIX, ECHO_RELAY_AUTH_HOST: app.url },
    });
    directory = relay.app.get(PresenceDirectory);
  });

  after(async () => {
    await relay.stop();
    await laravel.close();
    await app.close();
    await redis.close();
  });

  afterEach(() => {
    clients.splice(0).forEach((echo) => echo.disconnect());
  });

  async function echoAs(token: string, version: ClientVersion = 4): Promise<TestEcho> {
    const echo = createEcho(relay.url, version, { auth: { headers: { Authorization: `Bearer ${token}` } } });
    clients.push(echo);
    await connected(echo);
    return echo;
  }

  /** Joins a presence channel and resolves with the `here` list (user_info values). */
  async function join(
    echo: TestEcho,
    room: string,
  ): Promise<{ here: unknown[]; joining: unknown[]; leaving: unknown[] }> {
    const seen = { here: [] as unknown[], joining: [] as unknown[], leaving: [] as unknown[] };
    let hereCalls = 0;
    echo
      .join(room)
      .here((users: unknown[]) => {
        seen.here = users;
        hereCalls++;
      })
      .joining((user: unknown) => seen.joining.push(user))
      .leaving((user: unknown) => seen.leaving.push(user));
    await waitUntil(() => hereCalls === 1, 5000, `here() in ${room}`);
    return seen;
  }

  const sortByName = (users: unknown[]): unknown[] =>
    [...users].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

  for (const version of CLIENT_VERSIONS) {
    it(`here, joining and leaving with two users (socket.io-client ${version})`, async () => {
      const room = `room.v${version}`;
      const ann = await echoAs('ann', version);
      const annView = await join(ann, room);
      assert.deepEqual(annView.here, [ANN.info]);
      const bob = await echoAs('bob', version);
      const bobView = await join(bob, room);
      assert.deepEqual(sortByName(bobView.here), [ANN.info, BOB.info]);
      await waitUntil(() => annView.joining.length === 1);
      assert.deepEqual(annView.joining, [BOB.info]);
      assert.deepEqual(bobView.joining, [], 'a user is not told about their own arrival');
      bob.leave(room);
      await waitUntil(() => annView.leaving.length === 1);
      assert.deepEqual(annView.leaving, [BOB.info]);
      assert.deepEqual(await directory.members(`presence-${room}`), [{ user_id: 1, user_info: ANN.info }]);
    });
  }

  it('member payloads carry user_id and user_info only, never socket ids', async () => {
    const ann = await echoAs('ann');
    const subscribed = recordEvents(ann, 'presence:subscribed');
    const joining = recordEvents(ann, 'presence:joining');
    const leaving = recordEvents(ann, 'presence:leaving');
    await join(ann, 'payloads');
    const bob = await echoAs('bob');
    await join(bob, 'payloads');
    bob.disconnect();
    await waitUntil(() => leaving.length === 1);
    assert.deepEqual(subscribed, [['presence-payloads', [{ user_id: 1, user_info: ANN.info }]]]);
    assert.deepEqual(joining, [['presence-payloads', { user_id: 'b-2', user_info: BOB.info }]]);
    assert.deepEqual(leaving, [['presence-payloads', { user_id: 'b-2', user_info: BOB.info }]]);
  });

  it('one user in two tabs is one member: no joining for the second tab, leaving only after the last', async () => {
    const observer = await echoAs('bob');
    const view = await join(observer, 'tabs');
    const tab1 = await echoAs('ann');
    await join(tab1, 'tabs');
    await waitUntil(() => view.joining.length === 1);
    const tab2 = await echoAs('ann', 2);
    const tab2View = await join(tab2, 'tabs');
    assert.deepEqual(sortByName(tab2View.here), [ANN.info, BOB.info], 'Ann is listed once');
    tab1.disconnect();
    await waitUntil(async () => (await directory.members('presence-tabs')).length === 2);
    // Control: a third user's arrival is seen, so an earlier joining/leaving for Ann would have been too.
    app.users.set('carol', { id: 3, info: { name: 'Carol' } });
    const carol = await echoAs('carol');
    await join(carol, 'tabs');
    await waitUntil(() => view.joining.length === 2);
    assert.deepEqual(view.joining, [ANN.info, { name: 'Carol' }]);
    assert.deepEqual(view.leaving, [], 'closing one of two tabs is not leaving');
    tab2.disconnect();
    await waitUntil(() => view.leaving.length === 1);
    assert.deepEqual(view.leaving, [ANN.info]);
    assert.equal(relay.gateway.localSubscriberCount('presence-tabs'), 2);
  });

  it('Laravel broadcasts reach presence members', async () => {
    const ann = await echoAs('ann');
    const got: unknown[] = [];
    ann.join('chat.1').listen('.message', (d: unknown) => got.push(d));
    await relay.waitForSubscribers('presence-chat.1', 1);
    await laravel.broadcast(['presence-chat.1'], 'message', { text: 'hi' });
    await waitUntil(() => got.length === 1);
  });

  describe('races with the auth call in flight', () => {
    it('a socket that disconnects meanwhile is never joined and leaves no member', async () => {
      const observer = await echoAs('bob');
      const view = await join(observer, 'race.disconnect');
      const held = app.hold('presence-race.disconnect');
      const ann = await echoAs('ann');
      ann.join('race.disconnect');
      await held.arrived;
      ann.disconnect();
      await waitUntil(async () => (await gauge('connections')) === 1, 5000, 'the relay to see the disconnect');
      const answered = await authCount('allowed');
      held.release();
      await waitUntil(async () => (await authCount('allowed')) === answered + 1, 5000, "the answer for Ann's socket");
      await controlJoin('race.disconnect', view);
      assert.deepEqual(view.joining, [{ name: 'Carol' }], 'Ann never showed up');
      assert.deepEqual(view.leaving, []);
      assert.deepEqual(sortIds(await directory.members('presence-race.disconnect')), ['3', 'b-2']);
    });

    it('a socket that unsubscribes meanwhile is not joined, gets no here, and leaves no member', async () => {
      const observer = await echoAs('bob');
      const view = await join(observer, 'race.leave');
      const held = app.hold('presence-race.leave');
      const ann = await echoAs('ann');
      const subscribed = recordEvents(ann, 'presence:subscribed');
      const annGot: unknown[] = [];
      ann.join('race.leave').listen('.message', (d: unknown) => annGot.push(d));
      await held.arrived;
      ann.leave('race.leave');
      held.release();
      await controlJoin('race.leave', view);
      await laravel.broadcast(['presence-race.leave'], 'message', { n: 1 });
      const control: unknown[] = [];
      ann.channel('race.control').listen('.message', (d: unknown) => control.push(d));
      await relay.waitForSubscribers('race.control', 1);
      await laravel.broadcast(['race.control'], 'message', { n: 2 });
      await waitUntil(() => control.length === 1);
      assert.deepEqual(annGot, []);
      assert.deepEqual(subscribed, []);
      assert.deepEqual(view.joining, [{ name: 'Carol' }]);
      assert.equal(relay.gateway.localSubscriberCount('presence-race.leave'), 2);
      assert.deepEqual(sortIds(await directory.members('presence-race.leave')), ['3', 'b-2']);
    });

    it('repeated subscribes cost one auth call and one membership', async () => {
      const held = app.hold('presence-race.repeat');
      const ann = await echoAs('ann');
      const subscribed = recordEvents(ann, 'presence:subscribed');
      const socket = rawSocket(ann);
      ann.join('race.repeat');
      await held.arrived;
      socket.emit('subscribe', { channel: 'presence-race.repeat', auth: { headers: { Authorization: 'Bearer ann' } } });
      socket.emit('subscribe', { channel: 'presence-race.repeat', auth: { headers: { Authorization: 'Bearer ann' } } });
      held.release();
      await waitUntil(() => subscribed.length === 1);
      socket.emit('subscribe', { channel: 'presence-race.repeat', auth: { headers: { Authorization: 'Bearer ann' } } });
      // Control: a later subscribe on the same socket is handled, so the repeats above were too.
      const control = recordEvents(ann, 'presence:subscribed');
      socket.emit('subscribe', { channel: 'presence-race.after', auth: { headers: { Authorization: 'Bearer ann' } } });
      await waitUntil(() => control.length === 1);
      assert.equal(app.callsFor('presence-race.repeat').length, 1);
      assert.equal(subscribed.filter(([channel]) => channel === 'presence-race.repeat').length, 1);
      assert.equal(relay.gateway.localSubscriberCount('presence-race.repeat'), 1);
      assert.deepEqual(await directory.members('presence-race.repeat'), [{ user_id: 1, user_info: ANN.info }]);
      ann.disconnect();
      await waitUntil(async () => (await directory.members('presence-race.repeat')).length === 0);
    });
  });

  async function authCount(outcome: string): Promise<number> {
    const { values } = await relay.metrics.authRequests.get();
    return values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  }

  async function gauge(name: 'connections'): Promise<number> {
    const { values } = await relay.metrics[name].get();
    return values.reduce((sum, v) => sum + v.value, 0);
  }

  /** Carol joins after the race: once the observer sees her, anything about Ann would have arrived first. */
  async function controlJoin(room: string, view: { joining: unknown[] }): Promise<void> {
    app.users.set('carol', { id: 3, info: { name: 'Carol' } });
    const carol = await echoAs('carol');
    await join(carol, room);
    await waitUntil(() => view.joining.length >= 1);
  }

  function sortIds(members: { user_id: string | number }[]): string[] {
    return members.map((m) => String(m.user_id)).sort();
  }
});
