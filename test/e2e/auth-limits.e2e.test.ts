import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { collect, rawSocket, recordEvents, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { httpStatus } from '../support/http.js';
import { scrape } from '../support/http-api.js';
import type { LaravelAuthStub } from '../support/laravel-auth-stub.js';
import { waitUntil } from '../support/ports.js';
import type { TestRelay } from '../support/relay.js';

const USERS = { ann: { id: 1, info: { name: 'Ann' } } };
/** Long enough that no call of these specs times out while the stub hangs. */
const NO_TIMEOUT = { ECHO_RELAY_AUTH_TIMEOUT_MS: '120000' };

/** Sends a subscribe straight on the socket, as a client that does not wait for anything would. */
function subscribe(echo: TestEcho, channel: string): void {
  rawSocket(echo).emit('subscribe', { channel, auth: { headers: { Authorization: 'Bearer ann' } } });
}

async function sample(relay: TestRelay, name: string): Promise<number> {
  return (await scrape(relay.apiUrl)).get(name) ?? 0;
}

describe('auth calls of one socket against a hanging auth host', () => {
  const fx = useFixture({ auth: USERS, env: NO_TIMEOUT });
  let app: LaravelAuthStub;
  let relay: TestRelay;

  beforeAll(() => {
    ({ app, relay } = fx);
  });

  afterEach(() => app.resume());

  it('keeps 8 in flight, refuses channels past 1,000 with 429, serves everyone else, then answers the rest in order', async () => {
    app.pause();
    app.resetPeak();
    const callsBefore = app.calls.length;
    const connectionsBefore = app.connections;
    const greedy = await fx.echoAs('ann');
    const errors = recordEvents(greedy, 'subscription_error');
    const channels = Array.from({ length: 2000 }, (_, i) => `private-x.${i}`);
    for (const channel of channels) subscribe(greedy, channel);

    await waitUntil(() => errors.length === 1000, 30_000, '1,000 refusals');
    expect(errors).toEqual(channels.slice(1000).map((channel) => [channel, 429]));
    await waitUntil(
      async () => (await sample(relay, 'echo_relay_auth_waiting{limit="socket"}')) === 992,
      30_000,
      '992 subscribes waiting for a slot of their socket',
    );
    await waitUntil(() => app.inFlight === 8, 30_000, 'the stub to hold 8 requests');
    expect(app.peakInFlight).toBe(8);
    expect(await sample(relay, 'echo_relay_subscriptions_refused_total{reason="max_channels"}')).toBe(1000);

    // Meanwhile the node serves everyone else.
    expect(await httpStatus(`${relay.url}/health`)).toBe(200);
    const other = await fx.echoOn('news');
    const news = collect(other, 'news', '.story');
    await relay.waitForSubscribers('news', 1);
    await fx.laravel.broadcast(['news'], 'story', { n: 1 });
    await waitUntil(() => news.length === 1, 10_000, 'the other client to receive the story');

    app.resume();
    await waitUntil(
      () => channels.slice(0, 1000).every((channel) => relay.gateway.localSubscriberCount(channel) === 1),
      60_000,
      'the 1,000 subscribes to join',
    );
    const asked = app.calls.slice(callsBefore).map((call) => call.form.channel_name);
    expect(asked).toEqual(channels.slice(0, 1000));
    expect(app.peakInFlight).toBe(8);
    // 1,000 calls over the keep-alive agent: no more connections than calls at once.
    expect(app.connections - connectionsBefore).toBeLessThanOrEqual(8);
    expect(errors).toHaveLength(1000);
    expect(await sample(relay, 'echo_relay_auth_waiting{limit="socket"}')).toBe(0);
  });

  // A subscribe counts as in flight until its join is done, and as joined from its start: counted
  // twice meanwhile, a burst of public subscribes (Echo's after a reconnect) was refused short of the limit.
  it('joins 1,000 public channels subscribed in one burst, and refuses the 1,001st with 429', async () => {
    const echo = await fx.echoAs('ann');
    const errors = recordEvents(echo, 'subscription_error');
    const channels = Array.from({ length: 1000 }, (_, i) => `burst.${i}`);
    for (const channel of channels) rawSocket(echo).emit('subscribe', { channel });
    await waitUntil(
      () => errors.length > 0 || channels.every((channel) => relay.gateway.localSubscriberCount(channel) === 1),
      30_000,
      'the 1,000 channels to be joined or refused',
    );
    expect(errors).toEqual([]);
    rawSocket(echo).emit('subscribe', { channel: 'burst.one-too-many' });
    await waitUntil(() => errors.length === 1, 30_000, 'the refusal');
    expect(errors).toEqual([['burst.one-too-many', 429]]);
  });

  it('makes no auth call for waiting subscribes once the socket is gone', async () => {
    app.pause();
    const callsBefore = app.calls.length;
    const leaving = await fx.echoAs('ann');
    const channels = Array.from({ length: 50 }, (_, i) => `private-gone.${i}`);
    for (const channel of channels) subscribe(leaving, channel);
    await waitUntil(
      async () => (await sample(relay, 'echo_relay_auth_waiting{limit="socket"}')) === 42,
      30_000,
      '42 waiting subscribes',
    );
    await waitUntil(() => app.inFlight === 8, 30_000, 'the stub to hold 8 requests');
    leaving.disconnect();
    await waitUntil(
      async () => (await sample(relay, 'echo_relay_auth_waiting{limit="socket"}')) === 0,
      30_000,
      'the waiting subscribes to be dropped',
    );
    app.resume();
    await waitUntil(() => app.inFlight === 0, 30_000, 'the 8 calls in flight to be answered');
    expect(app.calls.length - callsBefore).toBe(8);
  });

  // Each subscribe waiting for an auth slot keeps its headers (up to maxHttpBufferSize, 1 MB, each):
  // 1,000 of them against a slow auth host held a gigabyte for one socket.
  it('refuses with 431 the subscribes whose auth.headers pass limits.maxAuthHeaderBytes, before any auth call', async () => {
    app.pause();
    const callsBefore = app.calls.length;
    const echo = await fx.echoAs('ann');
    const errors = recordEvents(echo, 'subscription_error');
    const big = { Authorization: 'Bearer ann', 'X-Pad': 'p'.repeat(8192) };
    const channels = Array.from({ length: 50 }, (_, i) => `private-big.${i}`);
    for (const channel of channels) rawSocket(echo).emit('subscribe', { channel, auth: { headers: big } });
    await waitUntil(() => errors.length === 50, 30_000, '50 refusals');
    expect(errors).toEqual(channels.map((channel) => [channel, 431]));
    expect(await sample(relay, 'echo_relay_subscriptions_refused_total{reason="auth_headers_too_large"}')).toBe(50);
    expect(await sample(relay, 'echo_relay_auth_waiting{limit="socket"}')).toBe(0);
    expect(app.calls.length - callsBefore).toBe(0);

    // Headers up to the limit (names and values, in bytes) are forwarded as before.
    const fits = { Authorization: 'Bearer ann', 'X-Pad': 'p'.repeat(8192 - 'Authorization'.length - 10 - 5) };
    rawSocket(echo).emit('subscribe', { channel: 'private-fits', auth: { headers: fits } });
    await waitUntil(() => app.callsFor('private-fits').length === 1, 30_000, 'the auth call of private-fits');
    expect(errors).toHaveLength(50);
  });
});

describe('auth calls of the whole node', () => {
  const fx = useFixture({ auth: USERS, env: { ...NO_TIMEOUT, ECHO_RELAY_AUTH_CONCURRENCY: '5' } });
  let app: LaravelAuthStub;
  let relay: TestRelay;

  beforeAll(() => {
    ({ app, relay } = fx);
  });

  afterEach(() => app.resume());

  it('never has more than authConcurrency requests open to the auth host, over as many kept-alive connections', async () => {
    app.pause();
    app.resetPeak();
    const connectionsBefore = app.connections;
    const sockets = await Promise.all(Array.from({ length: 4 }, () => fx.echoAs('ann')));
    const channels = (s: number): string[] => Array.from({ length: 6 }, (_, i) => `private-node.${s}.${i}`);
    sockets.forEach((echo, s) => channels(s).forEach((channel) => subscribe(echo, channel)));
    // 24 subscribes, 8 a socket allowed: all of them reach the node's limit, 5 go out, 19 wait.
    await waitUntil(
      async () => (await sample(relay, 'echo_relay_auth_waiting{limit="node"}')) === 19,
      30_000,
      '19 calls waiting for a slot of the node',
    );
    await waitUntil(() => app.inFlight === 5, 30_000, 'the stub to hold 5 requests');
    expect(app.peakInFlight).toBe(5);
    expect(await httpStatus(`${relay.url}/health`)).toBe(200);

    app.resume();
    await waitUntil(
      () => sockets.every((_, s) => channels(s).every((channel) => relay.gateway.localSubscriberCount(channel) === 1)),
      30_000,
      'every subscribe to join',
    );
    expect(app.peakInFlight).toBe(5);
    expect(app.connections - connectionsBefore).toBeLessThanOrEqual(5);
    expect(await sample(relay, 'echo_relay_auth_waiting{limit="node"}')).toBe(0);
  });

  // A client that connects, asks for a few slow channels and leaves, over and over, stays within
  // maxConnectionsPerIp: without this, every call it left behind waited for the node's slots,
  // holding its socket and headers, and the queue grew as long as the client went on.
  it('drops the calls of a socket that left, waiting or in flight: sockets that come and go pile up none', async () => {
    app.pause();
    const callsBefore = app.calls.length;
    const nodeWaiting = (): Promise<number> => sample(relay, 'echo_relay_auth_waiting{limit="node"}');
    for (let round = 1; round <= 10; round++) {
      const echo = await fx.echoAs('ann');
      for (let i = 0; i < 4; i++) subscribe(echo, `private-churn.${round}.${i}`);
      await waitUntil(
        async () => app.calls.length - callsBefore + (await nodeWaiting()) === 4 * round,
        30_000,
        `the 4 calls of round ${round} to be made or to wait for a slot`,
      );
      echo.disconnect();
      await waitUntil(
        async () => (await sample(relay, 'echo_relay_connections{eio="4"}')) === 0,
        30_000,
        'the relay to see the socket leave',
      );
    }
    expect(await nodeWaiting()).toBe(0);
    // Made while their socket was there, abandoned with it: the auth host sees each request end.
    await waitUntil(() => app.inFlight === 0, 30_000, 'the calls in flight to be abandoned');
    expect(app.calls.length - callsBefore).toBe(40);
  });
});
