import { beforeAll, describe, expect, it } from '@jest/globals';
import { PresenceDirectory } from '../../src/channels/presence-directory.js';
import { CLIENT_VERSIONS, recordEvents, type ClientVersion, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import type { LaravelAuthStub } from '../support/laravel-auth-stub.js';
import type { LaravelPublisher } from '../support/laravel-publisher.js';
import { waitUntil } from '../support/ports.js';
import { byJson, joinPresence } from '../support/presence-view.js';
import type { TestRelay } from '../support/relay.js';

const PREFIX = 'laravel_database_';
const ANN = { id: 1, info: { name: 'Ann' } };
const BOB = { id: 'b-2', info: { name: 'Bob' } };

describe('presence channels on one node', () => {
  const fx = useFixture({ prefix: PREFIX, auth: { ann: ANN, bob: BOB } });
  let laravel: LaravelPublisher;
  let app: LaravelAuthStub;
  let relay: TestRelay;
  let directory: PresenceDirectory;

  beforeAll(() => {
    ({ laravel, app, relay } = fx);
    directory = relay.app.get(PresenceDirectory);
  });

  const echoAs = (token: string, version: ClientVersion = 4): Promise<TestEcho> => fx.echoAs(token, { version });

  for (const version of CLIENT_VERSIONS) {
    it(`here, joining and leaving with two users (socket.io-client ${version})`, async () => {
      const room = `room.v${version}`;
      const ann = await echoAs('ann', version);
      const annView = await joinPresence(ann, room);
      expect(annView.here).toEqual([ANN.info]);
      const bob = await echoAs('bob', version);
      const bobView = await joinPresence(bob, room);
      expect(byJson(bobView.here)).toEqual([ANN.info, BOB.info]);
      await waitUntil(() => annView.joining.length === 1);
      expect(annView.joining).toEqual([BOB.info]);
      // a user is not told about their own arrival
      expect(bobView.joining).toEqual([]);
      bob.leave(room);
      await waitUntil(() => annView.leaving.length === 1);
      expect(annView.leaving).toEqual([BOB.info]);
      expect(await directory.members(`presence-${room}`)).toEqual([{ user_id: 1, user_info: ANN.info }]);
    });
  }

  it('member payloads carry user_id and user_info only, never socket ids', async () => {
    const ann = await echoAs('ann');
    const subscribed = recordEvents(ann, 'presence:subscribed');
    const joining = recordEvents(ann, 'presence:joining');
    const leaving = recordEvents(ann, 'presence:leaving');
    await joinPresence(ann, 'payloads');
    const bob = await echoAs('bob');
    await joinPresence(bob, 'payloads');
    bob.disconnect();
    await waitUntil(() => leaving.length === 1);
    expect(subscribed).toEqual([['presence-payloads', [{ user_id: 1, user_info: ANN.info }]]]);
    expect(joining).toEqual([['presence-payloads', { user_id: 'b-2', user_info: BOB.info }]]);
    expect(leaving).toEqual([['presence-payloads', { user_id: 'b-2', user_info: BOB.info }]]);
  });

  it('one user in two tabs is one member: no joining for the second tab, leaving only after the last', async () => {
    const observer = await echoAs('bob');
    const view = await joinPresence(observer, 'tabs');
    const tab1 = await echoAs('ann');
    await joinPresence(tab1, 'tabs');
    await waitUntil(() => view.joining.length === 1);
    const tab2 = await echoAs('ann', 2);
    const tab2View = await joinPresence(tab2, 'tabs');
    // Ann is listed once
    expect(byJson(tab2View.here)).toEqual([ANN.info, BOB.info]);
    tab1.disconnect();
    await waitUntil(async () => (await directory.members('presence-tabs')).length === 2);
    // Control: a third user's arrival is seen, so an earlier joining/leaving for Ann would have been too.
    app.users.set('carol', { id: 3, info: { name: 'Carol' } });
    const carol = await echoAs('carol');
    await joinPresence(carol, 'tabs');
    await waitUntil(() => view.joining.length === 2);
    expect(view.joining).toEqual([ANN.info, { name: 'Carol' }]);
    // closing one of two tabs is not leaving
    expect(view.leaving).toEqual([]);
    tab2.disconnect();
    await waitUntil(() => view.leaving.length === 1);
    expect(view.leaving).toEqual([ANN.info]);
    expect(relay.gateway.localSubscriberCount('presence-tabs')).toBe(2);
  });

  it('Laravel broadcasts reach presence members', async () => {
    const ann = await echoAs('ann');
    const got: unknown[] = [];
    ann.join('chat.1').listen('.message', (d: unknown) => got.push(d));
    await relay.waitForSubscribers('presence-chat.1', 1);
    await laravel.broadcast(['presence-chat.1'], 'message', { text: 'hi' });
    await waitUntil(() => got.length === 1);
  });
});
