import { beforeAll, describe, expect, it } from '@jest/globals';
import type { TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { sharedSecret } from '../support/laravel-auth-stub.js';
import { sleep, waitUntil } from '../support/ports.js';
import { byJson, joinPresence } from '../support/presence-view.js';
import {
  createPusherEcho,
  encrypt,
  PUSHER_APP,
  PUSHER_CLIENTS_ENV,
  pusherConnected,
  RawPusher,
  type PusherEcho,
  type PusherFrame,
} from '../support/pusher-client.js';
import type { TestRelay } from '../support/relay.js';

const ANN = { id: 1, info: { name: 'Ann' } };
const BOB = { id: 'b-2', info: { name: 'Bob' } };

describe('the Pusher protocol beside socket.io, on one node', () => {
  const fx = useFixture({ env: { ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV }, auth: { ann: ANN, bob: BOB } });
  let relay: TestRelay;
  const opened: (PusherEcho | RawPusher)[] = [];

  beforeAll(() => {
    relay = fx.relay;
    fx.app.pusherApp = PUSHER_APP;
    fx.defer(() => opened.splice(0).forEach((c) => (c instanceof RawPusher ? c.close() : c.disconnect())));
  });

  async function pusherEcho(token?: string, broadcaster: 'pusher' | 'reverb' = 'reverb'): Promise<PusherEcho> {
    const echo = createPusherEcho(relay.port, { broadcaster, authUrl: fx.app.url, token });
    opened.push(echo);
    await pusherConnected(echo);
    return echo;
  }

  async function raw(key: string = PUSHER_APP.key, query?: string): Promise<RawPusher> {
    const client = await RawPusher.open(relay.port, key, query);
    opened.push(client);
    return client;
  }

  it('answers a connection with connection_established: a Pusher socket_id and activity_timeout as a JSON string', async () => {
    const client = await raw();
    const frame = await client.next((f) => f.event === 'pusher:connection_established');
    expect(typeof frame.raw).toBe('string');
    expect(frame.data).toEqual({ socket_id: expect.stringMatching(/^\d+\.\d+$/), activity_timeout: 120 });
    client.send({ event: 'pusher:ping', data: {} });
    await client.next((f) => f.event === 'pusher:pong');
  });

  it('refuses an unknown key, and a client without a secret, with 4001 and a close', async () => {
    for (const key of ['no-such-key', 'plain-key', '%E0%A4%A']) {
      const client = await raw(key);
      const error = await client.next((f) => f.event === 'pusher:error');
      expect(error.data).toMatchObject({ code: 4001 });
      expect((await client.closedWith()).code).toBe(4001);
    }
    const old = await raw(PUSHER_APP.key, 'protocol=5&client=js');
    expect((await old.closedWith()).code).toBe(4007);
  });

  for (const broadcaster of ['reverb', 'pusher'] as const) {
    it(`delivers Laravel's Redis broadcasts to Echo '${broadcaster}' and socket.io Echo alike (public, private)`, async () => {
      const io: unknown[] = [];
      const pusher: unknown[] = [];
      const socketIo = await fx.echoAs('ann');
      socketIo.channel(`orders.${broadcaster}`).listen('.OrderShipped', (d: unknown) => io.push(d));
      socketIo.private(`orders.${broadcaster}`).listen('.OrderShipped', (d: unknown) => io.push(d));
      const echo = await pusherEcho('bob', broadcaster);
      const subscribed = Promise.all([
        succeeded(echo.channel(`orders.${broadcaster}`)),
        succeeded(echo.private(`orders.${broadcaster}`)),
      ]);
      echo.channel(`orders.${broadcaster}`).listen('.OrderShipped', (d: unknown) => pusher.push(d));
      echo.private(`orders.${broadcaster}`).listen('.OrderShipped', (d: unknown) => pusher.push(d));
      await subscribed;
      await relay.waitForSubscribers(`private-orders.${broadcaster}`, 2);
      await fx.laravel.broadcast([`orders.${broadcaster}`], 'OrderShipped', { id: 1, text: 'ü "quoted"' });
      await fx.laravel.broadcast([`private-orders.${broadcaster}`], 'OrderShipped', { id: 2 });
      await waitUntil(() => io.length === 2 && pusher.length === 2, 5000, 'both clients receiving both events');
      expect(pusher).toEqual(io);
      expect(io).toEqual([{ id: 1, text: 'ü "quoted"' }, { id: 2 }]);
    });
  }

  it('relays private-encrypted- payloads untouched, for pusher-js to decrypt with the key the app gave it', async () => {
    const echo = await pusherEcho('bob');
    const got: unknown[] = [];
    const channel = echo.encryptedPrivate('vault.1');
    const subscribed = succeeded(channel);
    channel.listen('.Secret', (d: unknown) => got.push(d));
    await subscribed;
    const watcher = await raw();
    const watcherId = await watcher.socketId();
    const name = 'private-encrypted-vault.1';
    watcher.send({
      event: 'pusher:subscribe',
      data: { channel: name, auth: await signedAuth(fx.app.url, watcherId, name) },
    });
    await watcher.next((f) => f.event === 'pusher_internal:subscription_succeeded');
    const sealed = encrypt(sharedSecret(name), { code: 'open sesame' });
    await fx.laravel.broadcast([name], 'Secret', sealed);
    await waitUntil(() => got.length === 1, 5000, 'the decrypted event');
    expect(got).toEqual([{ code: 'open sesame' }]);
    expect((await watcher.next((f) => f.event === 'Secret')).data).toEqual(sealed);
  });

  it("keeps Laravel's event name as published, and leaves out the Pusher socket named by toOthers", async () => {
    const client = await raw();
    const socketId = await client.socketId();
    client.send({ event: 'pusher:subscribe', data: { channel: 'shipments' } });
    await client.next((f) => f.event === 'pusher_internal:subscription_succeeded' && f.channel === 'shipments');
    const other = await raw();
    other.send({ event: 'pusher:subscribe', data: { channel: 'shipments' } });
    await other.next((f) => f.event === 'pusher_internal:subscription_succeeded');
    await fx.laravel.broadcast(['shipments'], 'App\\Events\\Shipped', { n: 1 }, socketId);
    await fx.laravel.broadcast(['shipments'], 'App\\Events\\Shipped', { n: 2 });
    const first = await other.next((f) => f.event === 'App\\Events\\Shipped');
    expect(first).toMatchObject({ channel: 'shipments', data: { n: 1 } });
    expect(typeof first.raw).toBe('string');
    await other.next((f) => f.event === 'App\\Events\\Shipped');
    const mine = await client.next((f) => f.event === 'App\\Events\\Shipped');
    expect(mine.data).toEqual({ n: 2 });
    expect(client.frames.filter((f) => f.event === 'App\\Events\\Shipped')).toEqual([]);
  });

  it('shows presence members of both protocols to both, and their departures', async () => {
    const ann = await fx.echoAs('ann');
    const annView = await joinPresence(ann, 'room.mixed');
    const bob = await pusherEcho('bob');
    const bobView = await joinPresence(bob as unknown as TestEcho, 'room.mixed');
    expect(byJson(bobView.here)).toEqual(byJson([ANN.info, BOB.info]));
    await waitUntil(() => annView.joining.length === 1, 5000, 'ann told of bob');
    expect(annView.joining).toEqual([BOB.info]);
    const carl = await fx.echoAs('ann'); // Ann's second tab: no member_added for bob's client
    await joinPresence(carl, 'room.mixed');
    carl.disconnect();
    ann.disconnect();
    await waitUntil(() => bobView.leaving.length === 1, 5000, 'bob told of ann leaving');
    expect(bobView.leaving).toEqual([ANN.info]);
    expect(bobView.joining).toEqual([]);
  });

  it('carries whispers both ways between socket.io and Pusher clients', async () => {
    const ann = await fx.echoAs('ann');
    const bob = await pusherEcho('bob');
    const annGot: unknown[] = [];
    const bobGot: unknown[] = [];
    ann.private('chat.1').listenForWhisper('typing', (d: unknown) => annGot.push(d));
    const bobChannel = bob.private('chat.1');
    const subscribed = succeeded(bobChannel);
    bobChannel.listenForWhisper('typing', (d: unknown) => bobGot.push(d));
    await subscribed;
    await relay.waitForSubscribers('private-chat.1', 2);
    ann.private('chat.1').whisper('typing', { who: 'ann' });
    bobChannel.whisper('typing', { who: 'bob' });
    await waitUntil(() => annGot.length === 1 && bobGot.length === 1, 5000, 'both whispers across');
    expect(annGot).toEqual([{ who: 'bob' }]);
    expect(bobGot).toEqual([{ who: 'ann' }]);
  });

  it('refuses a forged signature with pusher:subscription_error', async () => {
    const client = await raw();
    const socketId = await client.socketId();
    const channel = 'private-vault.1';
    client.send({ event: 'pusher:subscribe', data: { channel, auth: `${PUSHER_APP.key}:${'0'.repeat(64)}` } });
    const error = await client.next((f) => f.event === 'pusher:subscription_error');
    expect(error).toMatchObject({ channel, data: { type: 'AuthError', status: 401 } });
    // Signed for another socket: refused too.
    const other = await raw();
    const otherId = await other.socketId();
    const stolen = await signedAuth(fx.app.url, otherId, channel);
    client.send({ event: 'pusher:subscribe', data: { channel, auth: stolen } });
    await client.next((f) => f.event === 'pusher:subscription_error');
    expect(relay.gateway.localSubscriberCount(channel)).toBe(0);
    client.send({
      event: 'pusher:subscribe',
      data: { channel, auth: await signedAuth(fx.app.url, socketId, channel) },
    });
    await client.next((f) => f.event === 'pusher_internal:subscription_succeeded' && f.channel === channel);
  });

  it('refuses client events from non-members and on public channels, relays nothing', async () => {
    const member = await raw();
    const memberId = await member.socketId();
    member.send({
      event: 'pusher:subscribe',
      data: { channel: 'private-club.1', auth: await signedAuth(fx.app.url, memberId, 'private-club.1') },
    });
    await member.next((f) => f.event === 'pusher_internal:subscription_succeeded');
    member.send({ event: 'pusher:subscribe', data: { channel: 'lobby' } });
    await member.next((f) => f.event === 'pusher_internal:subscription_succeeded' && f.channel === 'lobby');
    const outsider = await raw();
    await outsider.socketId();
    outsider.send({ event: 'client-knock', channel: 'private-club.1', data: { x: 1 } });
    expect((await outsider.next((f) => f.event === 'pusher:error')).data).toMatchObject({ code: null });
    member.send({ event: 'client-shout', channel: 'lobby', data: {} });
    await member.next((f) => f.event === 'pusher:error');
    // A member's own client event is relayed: the refused ones did not arrive before it.
    const second = await raw();
    const secondId = await second.socketId();
    second.send({
      event: 'pusher:subscribe',
      data: { channel: 'private-club.1', auth: await signedAuth(fx.app.url, secondId, 'private-club.1') },
    });
    await second.next((f) => f.event === 'pusher_internal:subscription_succeeded');
    member.send({ event: 'client-hello', channel: 'private-club.1', data: { hi: true } });
    const hello = await second.next((f) => f.event.startsWith('client-'));
    expect(hello).toMatchObject({ event: 'client-hello', channel: 'private-club.1', data: { hi: true } });
  });

  it('holds client events to the whispers rate limit, answering the excess with 4301', async () => {
    const sender = await raw();
    const senderId = await sender.socketId();
    const receiver = await raw();
    const receiverId = await receiver.socketId();
    for (const [client, id] of [
      [sender, senderId],
      [receiver, receiverId],
    ] as const) {
      client.send({
        event: 'pusher:subscribe',
        data: { channel: 'private-rate.1', auth: await signedAuth(fx.app.url, id, 'private-rate.1') },
      });
      await client.next((f) => f.event === 'pusher_internal:subscription_succeeded');
    }
    // whispers.ratePerSecond is 10, a burst of 10: at least 4 of 15 sent at once are refused (the
    // bucket may refill by one if the node is slow to read them), every one either relayed or refused.
    for (let i = 0; i < 15; i++) sender.send({ event: 'client-tick', channel: 'private-rate.1', data: { i } });
    const refused = (): number => sender.frames.filter((f) => f.event === 'pusher:error').length;
    await waitUntil(() => refused() + receiver.frames.length === 15, 5000, 'all 15 relayed or refused');
    expect(refused()).toBeGreaterThanOrEqual(4);
    expect(sender.frames.every((f) => (f.data as { code: number }).code === 4301)).toBe(true);
    const relayed = receiver.frames.map((f) => (f.data as { i: number }).i);
    expect(relayed.slice(0, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await sleep(200);
    expect(refused() + receiver.frames.length).toBe(15);
  });

  it('answers a flood of malformed frames with pusher:error, and the connection and others carry on', async () => {
    const watcher = await raw();
    watcher.send({ event: 'pusher:subscribe', data: { channel: 'news' } });
    await watcher.next((f) => f.event === 'pusher_internal:subscription_succeeded');
    const bad = await raw();
    await bad.socketId();
    const junk = ['{', 'null', '[]', '"text"', '{"event": 5}', '{"data": {}}', Buffer.from([0xff, 0x00])];
    for (let i = 0; i < 200; i++) bad.ws.send(junk[i % junk.length]);
    await waitUntil(() => bad.frames.filter((f) => f.event === 'pusher:error').length === 200, 10_000, '200 errors');
    expect(bad.frames.every((f) => (f.data as { code: number }).code === 4200)).toBe(true);
    bad.send({ event: 'pusher:subscribe', data: { channel: 'news' } });
    await bad.next((f) => f.event === 'pusher_internal:subscription_succeeded');
    await fx.laravel.broadcast(['news'], 'Headline', { n: 1 });
    await Promise.all([bad, watcher].map((c) => c.next((f) => f.event === 'Headline')));
    expect(bad.closed).toBeUndefined();
    const dropped = (await relay.metrics.pusherDropped.get()).values.find((v) => v.labels.reason === 'malformed');
    expect(dropped?.value).toBeGreaterThanOrEqual(200);
  });

  it('answers an invalid pusher:subscribe with pusher:error, counts it and logs it throttled, and carries on', async () => {
    const dropped = async (): Promise<number> =>
      (await relay.metrics.pusherDropped.get()).values.find((v) => v.labels.reason === 'invalid_subscribe')?.value ?? 0;
    const before = await dropped();
    const client = await raw();
    await client.socketId();
    const invalid = [{ channel: 5 }, { channel: 'x'.repeat(201) }, {}, 'news', { channel: 'two words' }];
    for (const data of invalid) client.send({ event: 'pusher:subscribe', data });
    const errors = (): PusherFrame[] => client.frames.filter((f) => f.event === 'pusher:error');
    await waitUntil(() => errors().length === invalid.length, 5000, 'an error per invalid subscribe');
    expect(errors().map((f) => f.data)).toEqual(
      invalid.map(() => ({ code: null, message: 'pusher:subscribe needs {"channel": <a channel name>}' })),
    );
    expect((await dropped()) - before).toBe(invalid.length);
    // One line for the five: the rest are held back for the throttle's summary.
    expect(relay.logs.matching(/sent an invalid pusher:subscribe: "channel" is not a string$/)).toHaveLength(1);
    expect(relay.logs.matching(/sent an invalid pusher:subscribe/)).toHaveLength(1);
    client.send({ event: 'pusher:subscribe', data: { channel: 'news' } });
    await client.next((f) => f.event === 'pusher_internal:subscription_succeeded');
    expect(client.closed).toBeUndefined();
  });

  it('answers an invalid pusher:unsubscribe as an invalid subscribe, and leaves the subscriptions alone', async () => {
    const dropped = async (reason: string): Promise<number> =>
      (await relay.metrics.pusherDropped.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
    const before = { unsubscribe: await dropped('invalid_unsubscribe'), subscribe: await dropped('invalid_subscribe') };
    const client = await raw();
    client.send({ event: 'pusher:subscribe', data: { channel: 'bulletin' } });
    await client.next((f) => f.event === 'pusher_internal:subscription_succeeded');
    const invalid = [{ channel: 5 }, { channel: 'x'.repeat(201) }, {}, 'bulletin', { channel: 'two words' }, undefined];
    for (const data of invalid) client.send({ event: 'pusher:unsubscribe', data });
    // Leaving a channel the connection is not in is no error, as on Pusher.
    client.send({ event: 'pusher:unsubscribe', data: { channel: 'never-joined' } });
    const errors = (): PusherFrame[] => client.frames.filter((f) => f.event === 'pusher:error');
    await waitUntil(() => errors().length === invalid.length, 5000, 'an error per invalid unsubscribe');
    expect(errors().map((f) => f.data)).toEqual(
      invalid.map(() => ({ code: null, message: 'pusher:unsubscribe needs {"channel": <a channel name>}' })),
    );
    expect((await dropped('invalid_unsubscribe')) - before.unsubscribe).toBe(invalid.length);
    expect((await dropped('invalid_subscribe')) - before.subscribe).toBe(0);
    expect(relay.logs.matching(/sent an invalid pusher:unsubscribe: "channel" is not a string$/)).toHaveLength(1);
    expect(relay.logs.matching(/sent an invalid pusher:unsubscribe/)).toHaveLength(1);
    // Still in the channel, and still open.
    await fx.laravel.broadcast(['bulletin'], 'Notice', { n: 1 });
    await client.next((f) => f.event === 'Notice' && f.channel === 'bulletin');
    await sleep(100);
    expect(errors()).toHaveLength(invalid.length);
    expect(client.closed).toBeUndefined();
  });
});

/** Resolves when pusher-js reports the channel subscribed, rejects on its subscription error. */
function succeeded(channel: unknown): Promise<void> {
  const pusherChannel = (channel as { subscription: { bind(e: string, cb: (d: unknown) => void): void } }).subscription;
  return new Promise((resolve, reject) => {
    pusherChannel.bind('pusher:subscription_succeeded', () => resolve());
    pusherChannel.bind('pusher:subscription_error', (err) => reject(new Error(JSON.stringify(err))));
  });
}

/** What the app's auth endpoint signs for `socketId` (as Laravel's pusher broadcaster answers). */
async function signedAuth(authUrl: string, socketId: string, channel: string): Promise<string> {
  const res = await fetch(`${authUrl}/broadcasting/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Bearer ann' },
    body: new URLSearchParams({ socket_id: socketId, channel_name: channel }).toString(),
  });
  return ((await res.json()) as { auth: string }).auth;
}
