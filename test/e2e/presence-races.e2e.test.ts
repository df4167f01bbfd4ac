import { beforeAll, describe, expect, it } from '@jest/globals';
import { PresenceDirectory } from '../../src/channels/presence-directory.js';
import { rawSocket, recordEvents, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import type { LaravelAuthStub } from '../support/laravel-auth-stub.js';
import type { LaravelPublisher } from '../support/laravel-publisher.js';
import { waitUntil } from '../support/ports.js';
import { joinPresence, type PresenceView } from '../support/presence-view.js';
import type { TestRelay } from '../support/relay.js';

/**
 * A subscribe whose auth call is still in flight when the socket leaves. Each race is provoked by
 * holding the stub app's answer until the socket has left; every "nothing happened" is checked
 * after a later control event arrived.
 */
describe('subscribes racing their auth call', () => {
  const fx = useFixture({
    auth: {
      ann: { id: 1, info: { name: 'Ann' } },
      bob: { id: 'b-2', info: { name: 'Bob' } },
      carol: { id: 3, info: { name: 'Carol' } },
    },
  });
  let laravel: LaravelPublisher;
  let app: LaravelAuthStub;
  let relay: TestRelay;
  let directory: PresenceDirectory;

  beforeAll(() => {
    ({ laravel, app, relay } = fx);
    directory = relay.app.get(PresenceDirectory);
  });

  const echoAs = (token: string): Promise<TestEcho> => fx.echoAs(token);

  it('a socket that disconnects meanwhile is never joined and leaves no member', async () => {
    const observer = await echoAs('bob');
    const view = await joinPresence(observer, 'race.disconnect');
    const held = app.hold('presence-race.disconnect');
    const ann = await echoAs('ann');
    ann.join('race.disconnect');
    await held.arrived;
    const abandoned = await authCount('abandoned');
    ann.disconnect();
    await waitUntil(async () => (await gauge('connections')) === 1, 5000, 'the relay to see the disconnect');
    // The disconnect cuts the call off: whatever the app answers later goes nowhere.
    await waitUntil(async () => (await authCount('abandoned')) === abandoned + 1, 5000, "Ann's call to be abandoned");
    held.release();
    await controlJoin('race.disconnect', view);
    // Ann never showed up
    expect(view.joining).toEqual([{ name: 'Carol' }]);
    expect(view.leaving).toEqual([]);
    expect(sortIds(await directory.members('presence-race.disconnect'))).toEqual(['3', 'b-2']);
  });

  it('a socket that unsubscribes meanwhile is not joined, gets no here, and leaves no member', async () => {
    const observer = await echoAs('bob');
    const view = await joinPresence(observer, 'race.leave');
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
    expect(annGot).toEqual([]);
    expect(subscribed).toEqual([]);
    expect(view.joining).toEqual([{ name: 'Carol' }]);
    expect(relay.gateway.localSubscriberCount('presence-race.leave')).toBe(2);
    expect(sortIds(await directory.members('presence-race.leave'))).toEqual(['3', 'b-2']);
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
    expect(app.callsFor('presence-race.repeat').length).toBe(1);
    expect(subscribed.filter(([channel]) => channel === 'presence-race.repeat').length).toBe(1);
    expect(relay.gateway.localSubscriberCount('presence-race.repeat')).toBe(1);
    expect(await directory.members('presence-race.repeat')).toEqual([{ user_id: 1, user_info: { name: 'Ann' } }]);
    ann.disconnect();
    await waitUntil(async () => (await directory.members('presence-race.repeat')).length === 0);
  });

  it("users joining at the same moment all end up in each other's member lists", async () => {
    const names = Array.from({ length: 24 }, (_, i) => `burst${i}`);
    names.forEach((name, i) => app.users.set(name, { id: 100 + i, info: { name } }));
    const sockets = await Promise.all(names.map((name) => echoAs(name)));
    // What an app keeps from Echo's callbacks: here() as the base, then joining() and leaving().
    const lists = sockets.map(() => new Set<string>());
    for (const [i, echo] of sockets.entries()) {
      const list = lists[i];
      echo
        .join('race.burst')
        .here((users: { name: string }[]) => {
          list.clear();
          users.forEach((u) => list.add(u.name));
        })
        .joining((u: { name: string }) => list.add(u.name))
        .leaving((u: { name: string }) => list.delete(u.name));
    }
    await waitUntil(async () => (await directory.members('presence-race.burst')).length === names.length, 10_000);
    // A late control member: once everyone has seen it, every earlier joining event has arrived too.
    names.push('Carol');
    await joinPresence(await echoAs('carol'), 'race.burst');
    await waitUntil(() => lists.every((list) => list.has('Carol')), 5000, 'everyone to see Carol');
    const expected = [...names].sort();
    // every member list has everyone
    for (const list of lists) expect([...list].sort()).toEqual(expected);
  });

  it('an unsubscribe and a subscribe sent back to back leave the socket subscribed', async () => {
    const ann = await echoAs('ann');
    await joinPresence(ann, 'race.resubscribe');
    const subscribed = recordEvents(ann, 'presence:subscribed');
    const socket = rawSocket(ann);
    const request = { channel: 'presence-race.resubscribe', auth: { headers: { Authorization: 'Bearer ann' } } };
    socket.emit('unsubscribe', request);
    socket.emit('subscribe', request);
    await waitUntil(() => subscribed.length === 1, 5000, 'presence:subscribed for the second subscribe');
    expect(relay.gateway.localSubscriberCount('presence-race.resubscribe')).toBe(1);
    expect(await directory.members('presence-race.resubscribe')).toEqual([{ user_id: 1, user_info: { name: 'Ann' } }]);
    // And the other order: subscribe, then unsubscribe at once, ends unsubscribed.
    socket.emit('unsubscribe', request);
    await waitUntil(async () => (await directory.members('presence-race.resubscribe')).length === 0);
    socket.emit('subscribe', request);
    socket.emit('unsubscribe', request);
    const control = recordEvents(ann, 'presence:subscribed');
    socket.emit('subscribe', { ...request, channel: 'presence-race.resubscribe-control' });
    await waitUntil(() => control.some(([channel]) => channel === 'presence-race.resubscribe-control'));
    await waitUntil(async () => (await directory.members('presence-race.resubscribe')).length === 0, 5000, 'no member');
    expect(relay.gateway.localSubscriberCount('presence-race.resubscribe')).toBe(0);
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
  async function controlJoin(room: string, view: PresenceView): Promise<void> {
    const carol = await echoAs('carol');
    await joinPresence(carol, room);
    await waitUntil(() => view.joining.length >= 1);
  }

  function sortIds(members: { user_id: string | number }[]): string[] {
    return members.map((m) => String(m.user_id)).sort();
  }
});
