import { beforeAll, describe, expect, it } from '@jest/globals';
import { CLIENT_VERSIONS, rawSocket, recordEvents, type ClientVersion, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { LaravelAuthStub } from '../support/laravel-auth-stub.js';
import type { LaravelPublisher } from '../support/laravel-publisher.js';
import { freePort, waitUntil } from '../support/ports.js';
import type { TestRelay } from '../support/relay.js';

const PREFIX = 'laravel_database_';

describe('private channels authorised by the Laravel app', () => {
  const fx = useFixture({ nodes: 0, prefix: PREFIX, auth: { 'ann-token': { id: 1, info: { name: 'Ann' } } } });
  let laravel: LaravelPublisher;
  let app: LaravelAuthStub;
  let relay: TestRelay;

  beforeAll(async () => {
    ({ laravel, app } = fx);
    relay = await fx.startNode({ env: { ECHO_RELAY_AUTH_TIMEOUT_MS: '400' } });
  });

  /** A further node, with the suite's env and `env` over it. */
  const relayWith = (env: Record<string, string>): Promise<TestRelay> => fx.startNode({ env });

  const echoFor = (version: ClientVersion, options: Record<string, unknown> = {}, on = relay): Promise<TestEcho> =>
    fx.echo({ version, on, client: options });

  const asAnn = { auth: { headers: { Authorization: 'Bearer ann-token' } } };

  /** Subscribes to a private channel that must be refused, and returns its subscription_error. */
  async function refusal(echo: TestEcho, name: string): Promise<unknown[]> {
    const errors = recordEvents(echo, 'subscription_error');
    echo.private(name);
    await waitUntil(() => errors.length === 1, 5000, `subscription_error for ${name}`);
    return errors[0];
  }

  for (const version of CLIENT_VERSIONS) {
    describe(`socket.io-client ${version}`, () => {
      it('joins after the app says yes and delivers a Laravel broadcast', async () => {
        const echo = await echoFor(version, asAnn);
        const got: unknown[] = [];
        echo.private('orders.7').listen('.order.shipped', (data: unknown) => got.push(data));
        await relay.waitForSubscribers('private-orders.7', 1);
        await laravel.broadcast(['private-orders.7'], 'order.shipped', { id: 7 });
        await waitUntil(() => got.length === 1);
        expect(got).toEqual([{ id: 7 }]);
      });

      it('forwards the auth headers, the handshake cookie and the form fields exactly', async () => {
        const echo = await echoFor(version, {
          auth: { headers: { Authorization: 'Bearer ann-token', 'X-CSRF-TOKEN': 'csrf-1', Host: 'evil.test' } },
          extraHeaders: { Cookie: 'laravel_session=abc; XSRF-TOKEN=x' },
        });
        echo.private(`headers.${version}`);
        await relay.waitForSubscribers(`private-headers.${version}`, 1);
        const [call] = app.callsFor(`private-headers.${version}`);
        expect(call.method).toBe('POST');
        expect(call.path).toBe('/broadcasting/auth');
        expect(call.form).toEqual({ channel_name: `private-headers.${version}`, socket_id: echo.socketId() });
        expect(call.headers['content-type']).toBe('application/x-www-form-urlencoded');
        expect(call.headers.authorization).toBe('Bearer ann-token');
        expect(call.headers['x-csrf-token']).toBe('csrf-1');
        expect(call.headers.cookie).toBe('laravel_session=abc; XSRF-TOKEN=x');
        expect(call.headers['x-requested-with']).toBe('XMLHttpRequest');
        // a client cannot redirect the call with Host
        expect(call.headers.host).toBe(new URL(app.url).host);
      });

      it('never forwards proxy or method-override headers from auth.headers, whatever their case', async () => {
        const forged = {
          'X-Forwarded-For': '10.0.0.1',
          'x-forwarded-host': 'admin.app.test',
          'X-FORWARDED-PROTO': 'https',
          Forwarded: 'for=10.0.0.1',
          'X-Real-IP': '10.0.0.1',
          'X-Original-URL': '/admin',
          'X-HTTP-Method-Override': 'DELETE',
          'CF-Connecting-IP': '10.0.0.1',
        };
        const echo = await echoFor(version, {
          auth: { headers: { ...forged, Authorization: 'Bearer ann-token', 'X-CSRF-TOKEN': 'csrf-2' } },
        });
        echo.private(`forged.${version}`);
        await relay.waitForSubscribers(`private-forged.${version}`, 1);
        const [call] = app.callsFor(`private-forged.${version}`);
        expect(call.headers.authorization).toBe('Bearer ann-token');
        expect(call.headers['x-csrf-token']).toBe('csrf-2');
        for (const name of Object.keys(forged)) expect(call.headers[name.toLowerCase()]).toBeUndefined();
      });

      it('sends the cookie the client gave instead of the handshake one', async () => {
        const echo = await echoFor(version, {
          auth: { headers: { Cookie: 'laravel_session=ann-token' } },
          extraHeaders: { Cookie: 'laravel_session=someone-else' },
        });
        echo.private(`cookie.${version}`);
        await relay.waitForSubscribers(`private-cookie.${version}`, 1);
        expect(app.callsFor(`private-cookie.${version}`)[0].headers.cookie).toBe('laravel_session=ann-token');
      });

      it('403: subscription_error(channel, 403) to that socket only, and no events', async () => {
        const echo = await echoFor(version, asAnn);
        const bystander = await echoFor(version, asAnn);
        const bystanderErrors = recordEvents(bystander, 'subscription_error');
        const denied: unknown[] = [];
        const control: unknown[] = [];
        echo.channel('control').listen('.tick', (d: unknown) => control.push(d));
        expect(await refusal(echo, `denied.${version}`)).toEqual([`private-denied.${version}`, 403]);
        echo.private(`denied.${version}`).listen('.secret', (d: unknown) => denied.push(d));
        await relay.waitForSubscribers('control', 1);
        await laravel.broadcast([`private-denied.${version}`], 'secret', { leaked: true });
        await laravel.broadcast(['control'], 'tick', { n: 1 });
        await waitUntil(() => control.length === 1);
        expect(denied).toEqual([]);
        expect(bystanderErrors).toEqual([]);
        expect(relay.gateway.localSubscriberCount(`private-denied.${version}`)).toBe(0);
      });
    });
  }

  for (const status of [401, 404, 419, 500]) {
    it(`${status} from the app becomes subscription_error(channel, ${status})`, async () => {
      const echo = await echoFor(4, asAnn);
      expect(await refusal(echo, `status.${status}`)).toEqual([`private-status.${status}`, status]);
      expect(relay.gateway.localSubscriberCount(`private-status.${status}`)).toBe(0);
    });
  }

  it('a guest (no session, no token) is refused with 403', async () => {
    const echo = await echoFor(4);
    expect(await refusal(echo, 'orders.1')).toEqual(['private-orders.1', 403]);
  });

  it('a slow app times out with status 0 while the relay keeps serving others', async () => {
    const slow = await echoFor(4, asAnn);
    const errors = recordEvents(slow, 'subscription_error');
    slow.private('slow.1');
    await waitUntil(() => app.callsFor('private-slow.1').length === 1);
    const other = await echoFor(2, asAnn);
    const got: unknown[] = [];
    other.private('served.1').listen('.ok', (d: unknown) => got.push(d));
    await relay.waitForSubscribers('private-served.1', 1);
    await laravel.broadcast(['private-served.1'], 'ok', { n: 1 });
    await waitUntil(() => got.length === 1);
    // the other socket was served before the slow call gave up
    expect(errors).toEqual([]);
    await waitUntil(() => errors.length === 1);
    expect(errors).toEqual([['private-slow.1', 0]]);
    expect(relay.gateway.localSubscriberCount('private-slow.1')).toBe(0);
    expect((await relay.metrics.authRequests.get()).values.find((v) => v.labels.outcome === 'timeout')?.value).toBe(1);
  });

  it('a refused connection to the app is status 0, and other sockets are still served', async () => {
    const down = await relayWith({ ECHO_RELAY_AUTH_HOST: `http://127.0.0.1:${await freePort()}` });
    const echo = await echoFor(4, asAnn, down);
    expect(await refusal(echo, 'orders.9')).toEqual(['private-orders.9', 0]);
    const publicClient = await echoFor(2, {}, down);
    const got: unknown[] = [];
    publicClient.channel('news').listen('.item', (d: unknown) => got.push(d));
    await down.waitForSubscribers('news', 1);
    await laravel.broadcast(['news'], 'item', { n: 1 });
    await waitUntil(() => got.length === 1);
    expect(rawSocket(echo).connected).toBe(true);
  });

  it('a presence answer without channel_data is logged as misconfigured and refused', async () => {
    const echo = await echoFor(4, asAnn);
    const errors = recordEvents(echo, 'subscription_error');
    echo.join('broken.1');
    await waitUntil(() => errors.length === 1);
    expect(errors).toEqual([['presence-broken.1', 200]]);
    expect(relay.gateway.localSubscriberCount('presence-broken.1')).toBe(0);
    // Nest's Logger is process-wide: the line lands in the logger of the relay started last.
    const lines = fx.nodes.flatMap((r) => r.logs.matching(/presence channel "presence-broken\.1".*channel_data/));
    expect(lines.length).toBe(1);
    expect(rawSocket(echo).connected).toBe(true);
  });

  it('takes the blocked header list from ECHO_RELAY_AUTH_BLOCKED_HEADERS, replacing the default', async () => {
    const custom = await relayWith({ ECHO_RELAY_AUTH_BLOCKED_HEADERS: 'X-Debug, X-Tenant' });
    const echo = await echoFor(
      4,
      { auth: { headers: { ...asAnn.auth.headers, 'x-debug': 'on', 'X-Tenant': 't', 'X-Forwarded-For': '10.0.0.2' } } },
      custom,
    );
    echo.private('blocked.custom');
    await custom.waitForSubscribers('private-blocked.custom', 1);
    const [call] = app.callsFor('private-blocked.custom');
    expect(call.headers['x-debug']).toBeUndefined();
    expect(call.headers['x-tenant']).toBeUndefined();
    expect(call.headers['x-forwarded-for']).toBe('10.0.0.2');
    expect(call.headers.authorization).toBe('Bearer ann-token');
  });

  it('picks the auth host by Origin only among the configured hosts', async () => {
    const other = await LaravelAuthStub.start();
    other.users.set('ann-token', { id: 1, info: {} });
    try {
      const multi = await relayWith({ ECHO_RELAY_AUTH_HOST: `${app.url},${other.url}` });
      const fromOther = await echoFor(4, { ...asAnn, extraHeaders: { Origin: other.url } }, multi);
      fromOther.private('origin.other');
      await multi.waitForSubscribers('private-origin.other', 1);
      const fromElsewhere = await echoFor(4, { ...asAnn, extraHeaders: { Origin: 'http://127.0.0.1:1' } }, multi);
      fromElsewhere.private('origin.elsewhere');
      await multi.waitForSubscribers('private-origin.elsewhere', 1);
      expect(other.callsFor('private-origin.other').length).toBe(1);
      expect(app.callsFor('private-origin.other').length).toBe(0);
      // unknown origin: the first host
      expect(app.callsFor('private-origin.elsewhere').length).toBe(1);
      expect(other.callsFor('private-origin.elsewhere').length).toBe(0);
    } finally {
      await other.close();
    }
  });
});
