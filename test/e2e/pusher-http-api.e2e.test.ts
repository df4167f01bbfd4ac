import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type Pusher from 'pusher';
import { collect, rawSocket, type TestEcho } from '../support/echo-client.js';
import { useFixture, type Fixture } from '../support/fixture.js';
import { ApiClient } from '../support/http-api.js';
import { sleep, waitUntil } from '../support/ports.js';
import { joinPresence } from '../support/presence-view.js';
import { answerOf, pusherSdk, signedRequest, type PusherApp } from '../support/pusher-api.js';
import type { TestRelay } from '../support/relay.js';

const SHOP: PusherApp = { appId: 'shop', key: 'shop-key', secret: 'shop-secret' };
const BLOG: PusherApp = { appId: 'blog', key: 'blog-key', secret: 'blog-secret' };
/** An app of the old API only: no secret, so no Pusher API. */
const LEGACY = { appId: 'legacy', key: 'legacy-key' };
/** Pusher's `data` may be this long, in bytes. */
const MAX_MESSAGE_BYTES = 4096;

/**
 * Pusher's HTTP API as Laravel's `pusher`/`reverb` broadcaster calls it, through Pusher's official
 * server SDK (which signs as the PHP one does), against two nodes on one Redis: events reach
 * socket.io Echo clients on both, queries count both, and refused requests deliver nothing.
 */
describe("Pusher's HTTP API", () => {
  const fx = useFixture({
    nodes: 2,
    auth: { ann: { id: 1, info: { name: 'Ann' } }, bob: { id: 'b-2', info: { name: 'Bob' } } },
    overrides: { api: { clients: [SHOP, BLOG, LEGACY] } },
  });
  let one: TestRelay;
  let two: TestRelay;
  let shop: Pusher;

  beforeAll(() => {
    [one, two] = fx.nodes;
    shop = pusherSdk(one.apiUrl, SHOP);
  });

  afterEach(async () => {
    await waitUntil(async () => (await one.gateway.clusterSockets()).length === 0, 5000, 'clients gone');
  });

  const listener = (channel: string, event: string, node: TestRelay) => listen(fx, channel, event, node);
  const onBothNodes = (channel: string, event: string) => listenOnBoth(fx, channel, event);

  it('warns at startup that the apps with a secret have public keys the old API on this port accepts', () => {
    const warned = one.logs.matching(/^Apps with a secret \(shop, blog\) serve Pusher clients.*set apiPort/);
    expect(warned.length).toBeGreaterThan(0);
  });

  describe('channel queries', () => {
    it('lists occupied channels across nodes, with subscription_count and presence user_count when asked', async () => {
      const ann = await fx.echoAs('ann', { on: one });
      const bob = await fx.echoAs('bob', { on: two });
      await joinPresence(ann, 'room');
      await joinPresence(bob, 'room');
      ann.channel('lobby');
      bob.channel('lobby');
      await one.waitForSubscribers('lobby', 1);
      await two.waitForSubscribers('lobby', 1);

      const all = await answerOf(shop.get({ path: '/channels' }));
      expect(all).toEqual({ status: 200, body: { channels: { lobby: {}, 'presence-room': {} } } });
      const counted = await answerOf(shop.get({ path: '/channels', params: { info: 'subscription_count' } }));
      expect(counted.body).toEqual({
        channels: { lobby: { subscription_count: 2 }, 'presence-room': { subscription_count: 2 } },
      });
      const presence = await answerOf(
        shop.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } }),
      );
      expect(presence.body).toEqual({ channels: { 'presence-room': { user_count: 2 } } });
      const unfiltered = await answerOf(shop.get({ path: '/channels', params: { info: 'user_count' } }));
      expect(unfiltered.status).toBe(400);
    });

    it('answers one channel: occupied, and the counts asked for', async () => {
      const ann = await fx.echoAs('ann', { on: one });
      const annAgain = await fx.echoAs('ann', { on: two });
      await joinPresence(ann, 'desk');
      await joinPresence(annAgain, 'desk');
      expect((await answerOf(shop.get({ path: '/channels/presence-desk' }))).body).toEqual({ occupied: true });
      const info = { info: 'user_count,subscription_count' };
      const counts = await answerOf(shop.get({ path: '/channels/presence-desk', params: info }));
      expect(counts.body).toEqual({ occupied: true, user_count: 1, subscription_count: 2 });
      expect((await answerOf(shop.get({ path: '/channels/nobody-here' }))).body).toEqual({ occupied: false });
      const wrongType = await answerOf(shop.get({ path: '/channels/lobby', params: { info: 'user_count' } }));
      expect(wrongType.status).toBe(400);
    });

    it("lists a presence channel's users by id, across nodes; other channels have none", async () => {
      const ann = await fx.echoAs('ann', { on: one });
      const bob = await fx.echoAs('bob', { on: two });
      await joinPresence(ann, 'team');
      await joinPresence(bob, 'team');
      const users = await answerOf(shop.get({ path: '/channels/presence-team/users' }));
      expect(users.status).toBe(200);
      const ids = (users.body as { users: { id: string }[] }).users;
      expect([...ids].sort((x, y) => x.id.localeCompare(y.id))).toEqual([{ id: '1' }, { id: 'b-2' }]);
      const notPresence = await answerOf(shop.get({ path: '/channels/private-team/users' }));
      expect(notPresence).toEqual({ status: 400, body: { error: 'users are only available for presence channels' } });
    });
  });

  describe('terminate_connections', () => {
    it("closes every connection of the user on every node, and no one else's", async () => {
      const annOne = await fx.echoAs('ann', { on: one });
      const annTwo = await fx.echoAs('ann', { on: two });
      const bob = await fx.echoAs('bob', { on: two });
      for (const echo of [annOne, annTwo, bob]) await joinPresence(echo, 'shift');
      const reasons: unknown[] = [];
      for (const echo of [annOne, annTwo]) rawSocket(echo).on('disconnect', (reason) => reasons.push(reason));

      expect(await answerOf(shop.terminateUserConnections('1'))).toEqual({ status: 200, body: {} });
      await waitUntil(() => reasons.length === 2, 5000, "ann's sockets closed");
      expect(reasons).toEqual(['io server disconnect', 'io server disconnect']);
      expect(rawSocket(bob).connected).toBe(true);
      await waitUntil(async () => {
        const users = (await answerOf(shop.get({ path: '/channels/presence-shift/users' }))).body;
        return JSON.stringify(users) === JSON.stringify({ users: [{ id: 'b-2' }] });
      });
    });
  });

  describe('refusals', () => {
    /** Runs `refuse`, then a valid trigger: only the valid one may arrive. */
    async function refusedAndNothingSent(channel: string, refuse: () => Promise<{ status: number; body: unknown }>) {
      const { got } = await listener(channel, '.e', one);
      await one.waitForSubscribers(channel, 1);
      const answer = await refuse();
      await answerOf(shop.trigger(channel, 'e', { valid: true }));
      await waitUntil(() => got.length === 1);
      await sleep(100);
      expect(got).toEqual([{ valid: true }]);
      return answer;
    }

    const event = (channel: string): string =>
      JSON.stringify({ name: 'e', data: '{"forged":true}', channels: [channel] });

    it('refuses a signature made with another secret (401)', async () => {
      const forged = pusherSdk(one.apiUrl, { ...SHOP, secret: 'guessed' });
      const answer = await refusedAndNothingSent('r-sig', () =>
        answerOf(forged.trigger('r-sig', 'e', { forged: true })),
      );
      expect(answer).toEqual({ status: 401, body: { error: 'Invalid signature' } });
    });

    it('refuses a timestamp older than 600 s (401)', async () => {
      const timestamp = Math.floor(Date.now() / 1000) - 601;
      const answer = await refusedAndNothingSent('r-old', () =>
        signedRequest(one.apiUrl, SHOP, { method: 'POST', path: '/events', body: event('r-old'), timestamp }),
      );
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({
        error: expect.stringMatching(/^Timestamp expired: Given timestamp \(\d+\) not within 600s/),
      });
    });

    it('refuses a body whose MD5 is not body_md5 (401)', async () => {
      const bodyMd5 = '0'.repeat(32);
      const answer = await refusedAndNothingSent('r-md5', () =>
        signedRequest(one.apiUrl, SHOP, { method: 'POST', path: '/events', body: event('r-md5'), bodyMd5 }),
      );
      expect(answer).toMatchObject({
        status: 401,
        body: { error: 'body_md5 does not match the MD5 of the request body' },
      });
    });

    it("refuses a correctly signed body not sent as JSON with the old API's 400, not a body_md5 mismatch", async () => {
      const error = { error: 'request body must be a JSON object sent with Content-Type: application/json' };
      const dropped = await droppedCount(one, 'not_an_object');
      const md5Refused = await refusedCount(one, 'bad_body_md5');
      for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', null]) {
        const channel = `r-type-${contentType?.length ?? 0}`;
        const answer = await refusedAndNothingSent(channel, () =>
          signedRequest(one.apiUrl, SHOP, { method: 'POST', path: '/events', body: event(channel), contentType }),
        );
        expect({ contentType, status: answer.status, body: answer.body }).toEqual({
          contentType,
          status: 400,
          body: error,
        });
      }
      const batch = JSON.stringify({ batch: [{ name: 'e', data: '{}', channel: 'r-type' }] });
      const asText = { method: 'POST', path: '/batch_events', body: batch, contentType: 'text/plain' };
      expect(await signedRequest(one.apiUrl, SHOP, asText)).toMatchObject({ status: 400, body: error });
      expect((await droppedCount(one, 'not_an_object')) - dropped).toBe(4);
      expect(await refusedCount(one, 'bad_body_md5')).toBe(md5Refused);
    });

    it('refuses an unknown key (401); answers the key of an app without a secret as the old API', async () => {
      const unknown = pusherSdk(one.apiUrl, { appId: 'shop', key: 'nobody', secret: 'x' });
      const answer = await refusedAndNothingSent('r-key', () => answerOf(unknown.trigger('r-key', 'e', {})));
      expect(answer).toEqual({ status: 401, body: { error: 'Unknown auth_key' } });
      // laravel-echo-server checked the key alone: its README's recipe set `'secret' => null`.
      const legacy = pusherSdk(one.apiUrl, { ...LEGACY, secret: 'x' });
      // In the old API's shape: `{channels: {name: {subscription_count, occupied}}}`.
      expect(await answerOf(legacy.get({ path: '/channels' }))).toMatchObject({ status: 200, body: { channels: {} } });
      const wrongApp = pusherSdk(one.apiUrl, { ...LEGACY, appId: 'shop', secret: 'x' });
      expect(await answerOf(wrongApp.get({ path: '/channels' }))).toEqual({
        status: 403,
        body: { error: 'Unauthorized' },
      });
    });

    it("refuses another app's id in the path (403)", async () => {
      const wrongApp = pusherSdk(one.apiUrl, { ...BLOG, appId: 'shop' });
      const answer = await refusedAndNothingSent('r-app', () => answerOf(wrongApp.trigger('r-app', 'e', {})));
      expect(answer).toEqual({ status: 403, body: { error: 'auth_key does not belong to app "shop"' } });
    });

    it('answers malformed events with 400 naming the problem, and keeps serving', async () => {
      const post = (body: unknown) => answerOf(shop.post({ path: '/events', body: body as string }));
      expect(await post({ name: 'e', data: { not: 'a string' }, channel: 'm' })).toEqual({
        status: 400,
        body: { error: '"data" must be a string (JSON-encode objects)' },
      });
      expect(await post({ data: '{}', channel: 'm' })).toEqual({
        status: 400,
        body: { error: 'the event must have a "name"' },
      });
      expect((await post({ name: 'e', data: '{}', channel: 'bad name' })).status).toBe(400);
      expect((await post(['not', 'an', 'object'])).status).toBe(400);
      const notJson = await signedRequest(one.apiUrl, SHOP, { method: 'POST', path: '/events', body: '{"name":' });
      expect(notJson.status).toBe(400);
      expect(await answerOf(shop.trigger('m', 'e', {}))).toEqual({ status: 200, body: {} });
    });

    it('logs refusals at most once per reason and 10 s', async () => {
      // Nest's logger is process-wide: both in-process nodes write to the same lines.
      const logged = () => two.logs.matching(/Refused a Pusher API request .*Invalid signature/).length;
      const before = logged();
      const forged = pusherSdk(two.apiUrl, { ...SHOP, secret: 'guessed' });
      for (let i = 0; i < 5; i++) expect((await answerOf(forged.get({ path: '/channels' }))).status).toBe(401);
      expect(logged() - before).toBe(1);
    });

    it('counts refusals by reason', async () => {
      const forged = pusherSdk(one.apiUrl, { ...SHOP, secret: 'guessed' });
      const before = await refusedCount(one, 'bad_signature');
      await answerOf(forged.get({ path: '/channels' }));
      await answerOf(forged.get({ path: '/channels' }));
      expect((await refusedCount(one, 'bad_signature')) - before).toBe(2);
    });
  });

  describe('beside the old API', () => {
    it('keeps the auth_key API unchanged on the same paths', async () => {
      const old = new ApiClient(one.apiUrl, 'shop', 'shop-key');
      const [a] = await onBothNodes('old-api', '.e');
      expect(await old.publish({ channel: 'old-api', name: 'e', data: { via: 'auth_key' } })).toMatchObject({
        status: 200,
        body: { message: 'ok' },
      });
      await waitUntil(() => a.length === 1);
      expect(a).toEqual([{ via: 'auth_key' }]);
      expect((await old.get('/channels')).body).toEqual({
        channels: { 'old-api': { subscription_count: 2, occupied: true } },
      });
      expect((await old.get('/status')).status).toBe(200);
      // Pusher-only paths need a signature.
      expect((await old.request('POST', '/batch_events', '{"batch":[]}', {})).status).toBe(404);
    });

    it('never lets a request carrying auth_signature through on its key alone', async () => {
      const old = new ApiClient(one.apiUrl, 'shop', 'shop-key');
      const answer = await old.get('/channels?auth_signature=0');
      expect(answer.status).toBe(401);
    });
  });
});

/** A socket.io Echo client on `node` listening to `event` on the public `channel`. */
async function listen(
  fx: Fixture,
  channel: string,
  event: string,
  node: TestRelay,
): Promise<{ echo: TestEcho; got: unknown[] }> {
  const echo = await fx.echo({ on: node });
  const got = collect(echo, channel, event);
  await node.waitForSubscribers(channel, 1);
  return { echo, got };
}

/** Listeners on the first two nodes, subscribed. */
async function listenOnBoth(fx: Fixture, channel: string, event: string): Promise<unknown[][]> {
  const a = await listen(fx, channel, event, fx.nodes[0]);
  const b = await listen(fx, channel, event, fx.nodes[1]);
  return [a.got, b.got];
}

async function droppedCount(relay: TestRelay, reason: string): Promise<number> {
  const metric = await relay.metrics.messagesDropped.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function refusedCount(relay: TestRelay, reason: string): Promise<number> {
  const metric = await relay.metrics.pusherApiRefused.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

/**
 * Publishing through Pusher's API reaches socket.io clients on every node both ways the old API's
 * events go: through the recovery history (the default) and, with recovery off, the adapter.
 */
for (const recovery of ['on', 'off']) {
  describe(`Pusher's HTTP API publishing, recovery ${recovery}`, () => {
    const fx = useFixture({
      nodes: 2,
      env: { ECHO_RELAY_RECOVERY: recovery === 'on' ? 'true' : 'false' },
      overrides: { api: { clients: [SHOP] }, broadcast: { maxMessageBytes: MAX_MESSAGE_BYTES } },
    });
    let one: TestRelay;
    let two: TestRelay;
    let shop: Pusher;

    beforeAll(() => {
      [one, two] = fx.nodes;
      shop = pusherSdk(one.apiUrl, SHOP);
    });

    const listener = (channel: string, event: string, node: TestRelay) => listen(fx, channel, event, node);
    const onBothNodes = (channel: string, event: string) => listenOnBoth(fx, channel, event);

    it('delivers a triggered event to socket.io Echo clients on every node, its JSON data parsed', async () => {
      const [a, b] = await onBothNodes('orders', '.order.shipped');
      const answer = await answerOf(shop.trigger('orders', 'order.shipped', { id: 7, items: ['a'] }));
      expect(answer).toEqual({ status: 200, body: {} });
      await waitUntil(() => a.length === 1 && b.length === 1);
      expect([a, b]).toEqual([[{ id: 7, items: ['a'] }], [{ id: 7, items: ['a'] }]]);
    });

    it('delivers to every channel named, and data that is not JSON of an object as the string sent', async () => {
      const news = await listener('news', '.note', one);
      const sport = await listener('sport', '.note', two);
      await one.waitForSubscribers('news', 1);
      await two.waitForSubscribers('sport', 1);
      await answerOf(shop.trigger(['news', 'sport'], 'note', 'plain words'));
      await answerOf(shop.trigger(['news'], 'note', '42'));
      await waitUntil(() => news.got.length === 2 && sport.got.length === 1);
      expect(news.got).toEqual(['plain words', '42']);
      expect(sport.got).toEqual(['plain words']);
    });

    it('leaves out the socket named in socket_id, on any node', async () => {
      const sender = await listener('chat', '.said', two);
      const other = await listener('chat', '.said', one);
      await two.waitForSubscribers('chat', 1);
      await one.waitForSubscribers('chat', 1);
      // The SDK's trigger() only takes Pusher-style ids (`123.456`); post() sends a socket.io id as it is.
      const socketId = rawSocket(sender.echo).id;
      const body = { name: 'said', data: '{"text":"hi"}', channels: ['chat'], socket_id: socketId };
      // Typed as a string, but the SDK JSON-encodes whatever it is given.
      const posted = shop.post({ path: '/events', body: body as unknown as string });
      expect(await answerOf(posted)).toEqual({ status: 200, body: {} });
      await answerOf(shop.trigger('chat', 'said', { text: 'to all' }, { socket_id: '123.456' }));
      await waitUntil(() => other.got.length === 2 && sender.got.length === 1);
      await sleep(200);
      expect(other.got).toEqual([{ text: 'hi' }, { text: 'to all' }]);
      expect(sender.got).toEqual([{ text: 'to all' }]);
    });

    it('delivers a batch, each event to its channel, on every node', async () => {
      const [a, b] = await onBothNodes('batch-a', '.first');
      const c = await listener('batch-b', '.second', two);
      await two.waitForSubscribers('batch-b', 1);
      const answer = await answerOf(
        shop.triggerBatch([
          { channel: 'batch-a', name: 'first', data: { n: 1 } },
          { channel: 'batch-b', name: 'second', data: { n: 2 } },
        ]),
      );
      expect(answer).toEqual({ status: 200, body: {} });
      await waitUntil(() => a.length === 1 && b.length === 1 && c.got.length === 1);
      expect([a, b, c.got]).toEqual([[{ n: 1 }], [{ n: 1 }], [{ n: 2 }]]);
    });

    it('answers the counts `info` asks for, for a trigger and a batch', async () => {
      await onBothNodes('counted', '.x');
      const single = await answerOf(shop.trigger('counted', 'x', {}, { info: 'subscription_count' }));
      expect(single).toEqual({ status: 200, body: { channels: { counted: { subscription_count: 2 } } } });
      const batch = await answerOf(
        shop.triggerBatch([
          { channel: 'counted', name: 'x', data: {}, info: 'subscription_count' },
          { channel: 'empty', name: 'x', data: {} },
        ]),
      );
      expect(batch).toEqual({ status: 200, body: { batch: [{ subscription_count: 2 }, {}] } });
      // user_count applies to presence channels only: left out for the others, as Pusher does, not refused.
      const both = { info: 'user_count,subscription_count' };
      expect(await answerOf(shop.trigger(['counted', 'empty'], 'x', {}, both))).toEqual({
        status: 200,
        body: { channels: { counted: { subscription_count: 2 }, empty: { subscription_count: 0 } } },
      });
      expect(
        await answerOf(shop.triggerBatch([{ channel: 'counted', name: 'x', data: {}, info: 'user_count' }])),
      ).toEqual({ status: 200, body: { batch: [{}] } });
    });

    it('refuses a batch of more than 10 events, and an invalid event in a batch, delivering none of it', async () => {
      const [a] = await onBothNodes('big', '.e');
      const events = Array.from({ length: 11 }, (_, i) => ({ channel: 'big', name: 'e', data: { i } }));
      const tooMany = await answerOf(shop.triggerBatch(events));
      expect(tooMany).toEqual({ status: 400, body: { error: '"batch" must hold 1 to 10 events, not 11' } });
      const bad = await answerOf(
        shop.triggerBatch([
          { channel: 'big', name: 'e', data: { i: 'first' } },
          { channel: 'big', name: 'x'.repeat(201), data: {} },
        ]),
      );
      expect(bad.status).toBe(400);
      await answerOf(shop.trigger('big', 'e', { i: 'after' }));
      await waitUntil(() => a.length === 1);
      expect(a).toEqual([{ i: 'after' }]);
    });

    it('refuses data larger than maxMessageBytes with 413, delivering nothing', async () => {
      const [a] = await onBothNodes('huge', '.e');
      const tooLarge = await answerOf(shop.trigger('huge', 'e', { pad: 'x'.repeat(MAX_MESSAGE_BYTES) }));
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.body).toEqual({
        error: expect.stringMatching(/^"data" is \d+ bytes, more than the 4096 allowed/),
      });
      await answerOf(shop.trigger('huge', 'e', { i: 'after' }));
      await waitUntil(() => a.length === 1);
      expect(a).toEqual([{ i: 'after' }]);
    });
  });
}

/** The set-up the docs recommend once keys are public: `/apps/...` on an internal port only. */
describe("Pusher's HTTP API on apiPort", () => {
  const fx = useFixture({ overrides: { api: { clients: [SHOP], port: 0, host: '127.0.0.1' } } });

  it('answers signed requests on the API port, and nothing under /apps on the WebSocket port', async () => {
    const { relay } = fx;
    // The old API is off the public port: nothing to warn about.
    expect(relay.logs.matching(/^Apps with a secret/)).toEqual([]);
    expect(relay.apiUrl).not.toBe(relay.url);
    const { got } = await listen(fx, 'internal', '.e', relay);
    expect(await answerOf(pusherSdk(relay.apiUrl, SHOP).trigger('internal', 'e', { n: 1 }))).toEqual({
      status: 200,
      body: {},
    });
    await waitUntil(() => got.length === 1);
    expect(got).toEqual([{ n: 1 }]);
    const onPublicPort = await answerOf(pusherSdk(relay.url, SHOP).trigger('internal', 'e', { n: 2 }));
    expect(onPublicPort.status).toBe(404);
    await sleep(100);
    expect(got).toEqual([{ n: 1 }]);
  });
});
