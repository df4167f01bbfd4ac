import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rawSocket } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
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
import { WebhookReceiver } from '../support/webhook-receiver.js';

const ANN = { id: 1, info: { name: 'Ann' } };

/** Everything a pusher-js channel emitted, in order: `[event, data]`. */
type Heard = [string, unknown][];

/** A pusher-js client (through Echo, as an app has it) on `relay`, logged in as Ann. */
function pusherClient(relay: TestRelay, authUrl: string, opened: PusherEcho[]): Promise<PusherEcho> {
  const echo = createPusherEcho(relay.port, { authUrl, token: 'ann' });
  opened.push(echo);
  return pusherConnected(echo).then(() => echo);
}

/**
 * Subscribes pusher-js to `channel` and records what the channel emits, its own events included
 * (`pusher:subscription_succeeded`, `pusher:cache_miss`); resolves once the first event after
 * the subscription arrived, which on a cache channel is the cached event or the miss.
 */
async function heard(echo: PusherEcho, channel: string): Promise<Heard> {
  const events: Heard = [];
  pusherOf(echo)
    .subscribe(channel)
    .bind_global((event: string, data: unknown) => events.push([event, data]));
  await waitUntil(() => events.length >= 2, 5000, `succeeded and a first event on ${channel}`);
  return events;
}

describe.each([
  ['on', 'with recovery (events delivered from the history)'],
  ['off', 'without recovery (HTTP events through the adapter)'],
])('Pusher cache channels on two nodes, recovery %s: %s', (recovery) => {
  const env: Record<string, string> = { ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV, ECHO_RELAY_RECOVERY: recovery };
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start(PUSHER_APP.secret);
    env.ECHO_RELAY_WEBHOOKS = JSON.stringify([{ url: receiver.url, event_types: ['cache_miss'] }]);
  });
  afterAll(() => receiver.down());
  const fx = useFixture({ nodes: 2, env, auth: { ann: ANN } });
  let nodeA: TestRelay;
  let nodeB: TestRelay;
  const opened: PusherEcho[] = [];

  beforeAll(() => {
    [nodeA, nodeB] = fx.nodes;
    fx.app.pusherApp = PUSHER_APP;
    fx.defer(() => opened.splice(0).forEach((echo) => echo.disconnect()));
  });

  it('replays the last event Laravel broadcast through Redis to a later subscriber on the other node', async () => {
    const early = await heard(await pusherClient(nodeA, fx.app.url, opened), 'cache-score.1');
    expect(early).toEqual([
      ['pusher:subscription_succeeded', {}],
      ['pusher:cache_miss', undefined],
    ]);
    await fx.laravel.broadcast(['cache-score.1'], 'App\\Events\\Goal', { home: 1 });
    await fx.laravel.broadcast(['cache-score.1'], 'App\\Events\\Goal', { home: 2 });
    await waitUntil(() => early.length === 4, 5000, 'both goals live on node A');
    const late = await heard(await pusherClient(nodeB, fx.app.url, opened), 'cache-score.1');
    await sleep(300); // anything replayed twice would have arrived by now
    expect(late).toEqual([
      ['pusher:subscription_succeeded', {}],
      ['App\\Events\\Goal', { home: 2 }],
    ]);
  });

  it('replays the last event of either HTTP API, published on one node, to a subscriber on the other', async () => {
    await fx.api(PUSHER_APP.appId, PUSHER_APP.key, 0).publish({ channel: 'cache-api.1', name: 'Old', data: { v: 1 } });
    const sdk = pusherSdk(nodeA.apiUrl, PUSHER_APP);
    expect((await answerOf(sdk.trigger('cache-api.1', 'Price', { v: 2 }))).status).toBe(200);
    await waitUntil(async () => (await heardOnce(nodeB, 'cache-api.1'))[1]?.[0] === 'Price', 5000, 'the cached Price');
    expect(await heardOnce(nodeB, 'cache-api.1')).toEqual([
      ['pusher:subscription_succeeded', {}],
      ['Price', { v: 2 }],
    ]);
  });

  /** What a fresh pusher-js client on `relay` hears first on `channel`; disconnected after. */
  async function heardOnce(relay: TestRelay, channel: string): Promise<Heard> {
    const echo = await pusherClient(relay, fx.app.url, []);
    try {
      return await heard(echo, channel);
    } finally {
      echo.disconnect();
    }
  }

  it('authorises private-cache and presence-cache channels as private and presence ones, then replays', async () => {
    await fx.laravel.broadcast(['private-cache-orders.1', 'presence-cache-room.1'], 'Status', { open: true });
    await sleep(300); // cached by both nodes
    const echo = await pusherClient(nodeB, fx.app.url, opened);
    const privately = await heard(echo, 'private-cache-orders.1');
    const present = await heard(echo, 'presence-cache-room.1');
    expect(privately).toEqual([
      ['pusher:subscription_succeeded', {}],
      ['Status', { open: true }],
    ]);
    expect(present[0]).toEqual(['pusher:subscription_succeeded', expect.objectContaining({ count: 1 })]);
    expect(present[1]).toEqual(['Status', { open: true }]);
    const calls = fx.app.callsFor('private-cache-orders.1');
    expect(calls).toHaveLength(1);
  });

  it("refuses a private-cache subscribe without the app's signature, and replays nothing to it", async () => {
    await fx.laravel.broadcast(['private-cache-denied.1'], 'Secret', { s: 1 });
    await sleep(300);
    const client = await RawPusher.open(nodeA.port);
    fx.defer(() => client.close());
    await client.socketId();
    client.send({
      event: 'pusher:subscribe',
      data: { channel: 'private-cache-denied.1', auth: `${PUSHER_APP.key}:${'0'.repeat(64)}` },
    });
    const refusal = await client.next((f) => f.event === 'pusher:subscription_error');
    expect(refusal).toMatchObject({ channel: 'private-cache-denied.1', data: { status: 401 } });
    await sleep(300);
    expect(client.frames.filter((f) => f.channel === 'private-cache-denied.1')).toEqual([]);
  });

  it('tells pusher:cache_miss on an empty channel, and the app once per window however many subscribe', async () => {
    const [onA, onB] = await Promise.all([
      pusherClient(nodeA, fx.app.url, opened),
      pusherClient(nodeB, fx.app.url, opened),
    ]);
    const heardA = await heard(onA, 'cache-empty.1');
    const heardB = await heard(onB, 'cache-empty.1');
    for (const events of [heardA, heardB]) {
      expect(events).toEqual([
        ['pusher:subscription_succeeded', {}],
        ['pusher:cache_miss', undefined],
      ]);
    }
    await receiver.waitFor(() => receiver.on('cache-empty.1').length > 0, 'the cache_miss webhook');
    await sleep(500);
    expect(receiver.on('cache-empty.1')).toEqual(['cache_miss']);
    expect(receiver.on('cache-score.1')).toEqual(['cache_miss']); // the first test's early subscriber
    expect(receiver.on('cache-api.1')).toEqual([]);
  });

  it('leaves socket.io clients as laravel-echo-server did: cache-* is public there, nothing is replayed', async () => {
    await fx.laravel.broadcast(['cache-io.1'], 'Cached', { n: 1 });
    await sleep(300);
    const io = await fx.echo({ on: nodeB });
    const got: unknown[][] = [];
    rawSocket(io).on('Cached', (...args: unknown[]) => got.push(args));
    io.channel('cache-io.1').listen('.Cached', () => undefined);
    await nodeB.waitForSubscribers('cache-io.1', 1);
    await sleep(300);
    expect(got).toEqual([]);
    await fx.laravel.broadcast(['cache-io.1'], 'Cached', { n: 2 });
    await waitUntil(() => got.length === 1, 5000, 'the live event');
    // With recovery on, Engine.IO 4 clients also get the event's offset as a last argument.
    expect(got.map((args) => args.slice(0, 2))).toEqual([['cache-io.1', { n: 2 }]]);
  });
});

describe('Pusher cache channels: TTL and a Redis that is away', () => {
  const fx = useFixture({ env: { ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV, ECHO_RELAY_PUSHER_CACHE_TTL: '1' } });
  const opened: PusherEcho[] = [];

  beforeAll(() => fx.defer(() => opened.splice(0).forEach((echo) => echo.disconnect())));

  const first = async (channel: string): Promise<Heard> =>
    heard(await pusherClient(fx.relay, 'http://127.0.0.1:9', opened), channel);

  it('forgets the cached event once pusher.cacheTtlSec has passed since it was published', async () => {
    await fx.laravel.broadcast(['cache-ttl.1'], 'Tick', { n: 1 });
    await sleep(200);
    expect((await first('cache-ttl.1'))[1]).toEqual(['Tick', { n: 1 }]);
    await sleep(1200);
    expect((await first('cache-ttl.1'))[1]).toEqual(['pusher:cache_miss', undefined]);
  });

  it('still subscribes while Redis is away, answering pusher:cache_miss at once', async () => {
    await fx.laravel.broadcast(['cache-outage.1'], 'Tick', { n: 1 });
    const echo = await pusherClient(fx.relay, 'http://127.0.0.1:9', opened);
    await fx.server.stop(true);
    try {
      await waitUntil(async () => (await fx.relay.ready()) !== 200, 10_000, 'the node to notice Redis is gone');
      const started = Date.now();
      expect(await heard(echo, 'cache-outage.1')).toEqual([
        ['pusher:subscription_succeeded', {}],
        ['pusher:cache_miss', undefined],
      ]);
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await fx.server.start();
      // Both back before the suite stops: a publisher closed mid-reconnect keeps the process alive 2 s.
      await waitUntil(
        async () => fx.laravel.redis.status === 'ready' && (await fx.relay.ready()) === 200,
        15_000,
        'Redis back for the node and the publisher',
      );
    }
  });
});
