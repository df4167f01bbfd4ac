import { createHmac } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type Pusher from 'pusher';
import { rawSocket, recordEvents } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { sample, scrape } from '../support/http-api.js';
import { sleep, waitUntil } from '../support/ports.js';
import { answerOf, pusherSdk } from '../support/pusher-api.js';
import {
  createPusherEcho,
  PUSHER_APP,
  PUSHER_CLIENTS_ENV,
  pusherConnected,
  pusherOf,
  RawPusher,
  type PusherEcho,
} from '../support/pusher-client.js';
import type { TestRelay } from '../support/relay.js';

const ANN = { id: 1, info: { name: 'Ann' } };
const BOB = { id: 2, info: { name: 'Bob' } };

/** `{auth, user_data}` for any user data, signed with the app's secret. */
function signedByHand(socketId: string, userData: string): { auth: string; user_data: string } {
  const signature = createHmac('sha256', PUSHER_APP.secret).update(`${socketId}::user::${userData}`).digest('hex');
  return { auth: `${PUSHER_APP.key}:${signature}`, user_data: userData };
}

/**
 * Pusher's user authentication: pusher-js signs in through the app's `/broadcasting/user-auth`
 * (the stub answers as Laravel's pusher/reverb broadcaster does), joins its user's
 * `#server-to-user-<id>` channel, and the app reaches the user with `sendToUser` and ends their
 * connections with `terminate_connections`, on two nodes.
 */
describe('Pusher user authentication (pusher:signin)', () => {
  const fx = useFixture({ nodes: 2, env: { ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV }, auth: { ann: ANN, bob: BOB } });
  let nodeA: TestRelay;
  let nodeB: TestRelay;
  let sdk: Pusher;
  const opened: (PusherEcho | RawPusher)[] = [];

  beforeAll(() => {
    [nodeA, nodeB] = fx.nodes;
    fx.app.pusherApp = PUSHER_APP;
    sdk = pusherSdk(nodeA.apiUrl, PUSHER_APP);
  });

  afterEach(async () => {
    for (const client of opened.splice(0)) {
      if (client instanceof RawPusher) client.close();
      else client.disconnect();
    }
    await waitUntil(async () => (await nodeA.gateway.clusterSockets()).length === 0, 5000, 'clients gone');
  });

  async function pusherEcho(node: TestRelay, token: string): Promise<PusherEcho> {
    const echo = createPusherEcho(node.port, { authUrl: fx.app.url, token });
    opened.push(echo);
    await pusherConnected(echo);
    return echo;
  }

  async function raw(node: TestRelay): Promise<RawPusher> {
    const client = await RawPusher.open(node.port);
    opened.push(client);
    await client.socketId();
    return client;
  }

  /** What pusher-js does on `signin()`: the app's user-auth answer, sent as `pusher:signin`. */
  async function signIn(client: RawPusher, token: string): Promise<void> {
    const res = await fetch(`${fx.app.url}/broadcasting/user-auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` },
      body: new URLSearchParams({ socket_id: await client.socketId() }).toString(),
    });
    client.send({ event: 'pusher:signin', data: await res.json() });
    await client.next((f) => f.event === 'pusher:signin_success');
  }

  const subscribe = (client: RawPusher, channel: string): void =>
    client.send({ event: 'pusher:subscribe', data: { channel } });

  it("signs pusher-js in through the app's user-auth endpoint; sendToUser reaches the user's connections on every node, nobody else", async () => {
    const clients = {
      annA: await pusherEcho(nodeA, 'ann'),
      annB: await pusherEcho(nodeB, 'ann'),
      bob: await pusherEcho(nodeA, 'bob'),
    };
    const got: Record<string, unknown[]> = {};
    for (const [name, echo] of Object.entries(clients)) {
      const events: unknown[] = (got[name] = []);
      pusherOf(echo).user.bind('note', (data: unknown) => events.push(data));
      pusherOf(echo).signin();
    }
    // pusher-js joins its user's channel once signed in.
    await nodeA.waitForSubscribers('#server-to-user-1', 1);
    await nodeB.waitForSubscribers('#server-to-user-1', 1);
    await nodeA.waitForSubscribers('#server-to-user-2', 1);
    expect(fx.app.calls.filter((c) => c.path.startsWith('/broadcasting/user-auth'))).toHaveLength(3);

    expect(await answerOf(sdk.sendToUser('1', 'note', { for: 'ann' }))).toEqual({ status: 200, body: {} });
    expect(await answerOf(sdk.sendToUser('2', 'note', { for: 'bob' }))).toEqual({ status: 200, body: {} });
    await waitUntil(() => Object.values(got).every((events) => events.length === 1), 5000, 'one note each');
    await sleep(100);
    expect(got).toEqual({ annA: [{ for: 'ann' }], annB: [{ for: 'ann' }], bob: [{ for: 'bob' }] });
  });

  it("refuses a user's channel to connections not signed in as them, on both protocols, and sends them nothing", async () => {
    const anonymous = await raw(nodeA);
    subscribe(anonymous, '#server-to-user-1');
    const notSignedIn = await anonymous.next((f) => f.event === 'pusher:subscription_error');
    expect(notSignedIn).toMatchObject({ channel: '#server-to-user-1', data: { type: 'AuthError', status: 403 } });

    const bob = await raw(nodeB);
    await signIn(bob, 'bob');
    subscribe(bob, '#server-to-user-1');
    const otherUser = await bob.next((f) => f.event === 'pusher:subscription_error');
    expect(otherUser).toMatchObject({ channel: '#server-to-user-1', data: { status: 403 } });

    // Echo's socket.io connector signs in as nobody: a public channel by its name, refused.
    const socketIo = await fx.echoAs('ann', { on: nodeA });
    const errors = recordEvents(socketIo, 'subscription_error');
    rawSocket(socketIo).emit('subscribe', { channel: '#server-to-user-1' });
    await waitUntil(() => errors.length === 1, 5000, "socket.io's refusal");
    expect(errors).toEqual([['#server-to-user-1', 403]]);

    const ann = await raw(nodeB);
    await signIn(ann, 'ann');
    subscribe(ann, '#server-to-user-1');
    await ann.next((f) => f.event === 'pusher_internal:subscription_succeeded' && f.channel === '#server-to-user-1');
    await answerOf(sdk.sendToUser('1', 'note', { secret: true }));
    expect((await ann.next((f) => f.event === 'note')).data).toEqual({ secret: true });
    await sleep(200);
    for (const client of [anonymous, bob]) {
      expect(client.frames.filter((f) => f.event === 'note')).toEqual([]);
      // A refused subscribe closes nothing.
      expect(client.closed).toBeUndefined();
    }
    const refused = async (node: TestRelay): Promise<number> =>
      sample(await scrape(node.apiUrl), 'echo_relay_subscriptions_refused_total', { reason: 'server_to_user' });
    expect((await refused(nodeA)) + (await refused(nodeB))).toBe(3);
  });

  it('closes a connection whose signin is forged, names no user or is no signin with 4009, counts and logs it', async () => {
    const bad: [string, (socketId: string) => unknown][] = [
      ['signed for another socket', () => sdk.authenticateUser('1.1', { id: '1' })],
      [
        'signed with another secret',
        (id) => pusherSdk(nodeA.apiUrl, { ...PUSHER_APP, secret: 'guess' }).authenticateUser(id, { id: '1' }),
      ],
      // Signed by a backend that checks nothing (Pusher's SDK refuses to sign these).
      ['a number for id', (id) => signedByHand(id, '{"id":1}')],
      ['no JSON', (id) => signedByHand(id, 'user 1')],
      ['no user_data', (id) => ({ auth: sdk.authenticateUser(id, { id: '1' }).auth })],
      ['no object', () => 'sign me in'],
    ];
    const bystander = await raw(nodeA);
    await signIn(bystander, 'ann');
    for (const [why, data] of bad) {
      const client = await raw(nodeA);
      client.send({ event: 'pusher:signin', data: data(await client.socketId()) });
      const error = await client.next((f) => f.event === 'pusher:error');
      expect([why, (error.data as { code: number }).code]).toEqual([why, 4009]);
      await waitUntil(() => client.closed !== undefined, 5000, `closed (${why})`);
      expect([why, client.closed?.code]).toEqual([why, 4009]);
    }
    const dropped = sample(await scrape(nodeA.apiUrl), 'echo_relay_pusher_messages_dropped_total', {
      reason: 'invalid_signin',
    });
    expect(dropped).toBe(bad.length);
    // Nest's loggers are one per process: the nodes of this spec share whichever was set last.
    const logged = [nodeA, nodeB].flatMap((node) => node.logs.matching(/failed to sign in: invalid signature$/));
    expect(logged.length).toBeGreaterThan(0);
    // Nobody else was touched.
    subscribe(bystander, '#server-to-user-1');
    await bystander.next((f) => f.event === 'pusher_internal:subscription_succeeded');
    expect(bystander.closed).toBeUndefined();
  });

  it('terminate_connections closes the connections signed in as the user on every node, with 4009', async () => {
    const annA = await raw(nodeA);
    const annB = await raw(nodeB);
    const bob = await raw(nodeB);
    await signIn(annA, 'ann');
    await signIn(annB, 'ann');
    await signIn(bob, 'bob');

    expect(await answerOf(sdk.terminateUserConnections('1'))).toEqual({ status: 200, body: {} });
    await waitUntil(() => annA.closed !== undefined && annB.closed !== undefined, 5000, "ann's connections closed");
    expect([annA.closed?.code, annB.closed?.code]).toEqual([4009, 4009]);
    await sleep(100);
    expect(bob.closed).toBeUndefined();
  });
});
