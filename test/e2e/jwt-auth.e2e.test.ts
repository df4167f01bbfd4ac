import { beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { recordEvents, type ClientVersion, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import type { LaravelPublisher } from '../support/laravel-publisher.js';
import { waitUntil } from '../support/ports.js';
import type { TestRelay } from '../support/relay.js';

const SECRET = 'a-test-secret-of-at-least-thirty-two-bytes';

interface Claims {
  sub?: string;
  channels?: string[];
  user_info?: unknown;
}

async function token(claims: Claims, options: { secret?: string; expiresIn?: string | number } = {}): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
}

describe('JWT authorisation (auth.driver: jwt)', () => {
  const fx = useFixture({ env: { ECHO_RELAY_AUTH_DRIVER: 'jwt', ECHO_RELAY_JWT_SECRET: SECRET } });
  let laravel: LaravelPublisher;
  let relay: TestRelay;

  beforeAll(() => {
    ({ laravel, relay } = fx);
  });

  const echoWith = (jwt: string, version: ClientVersion = 4): Promise<TestEcho> => fx.echoAs(jwt, { version });

  async function refusal(echo: TestEcho, channel: string): Promise<unknown[]> {
    const errors = recordEvents(echo, 'subscription_error');
    echo.private(channel);
    await waitUntil(() => errors.length === 1);
    expect(relay.gateway.localSubscriberCount(`private-${channel}`)).toBe(0);
    return errors[0];
  }

  const orders = { sub: '42', channels: ['private-orders.*', 'presence-room.*'], user_info: { name: 'Ann' } };

  for (const version of [4, 2] as const) {
    it(`accepts a granted private channel and delivers to it (socket.io-client ${version})`, async () => {
      const echo = await echoWith(await token(orders), version);
      const got: unknown[] = [];
      echo.private('orders.7').listen('.shipped', (d: unknown) => got.push(d));
      await relay.waitForSubscribers('private-orders.7', 1);
      await laravel.broadcast(['private-orders.7'], 'shipped', { id: 7 });
      await waitUntil(() => got.length === 1);
    });
  }

  it('joins presence with sub as user_id and the user_info claim', async () => {
    const echo = await echoWith(await token(orders));
    const subscribed = recordEvents(echo, 'presence:subscribed');
    echo.join('room.1');
    await waitUntil(() => subscribed.length === 1);
    expect(subscribed).toEqual([['presence-room.1', [{ user_id: '42', user_info: { name: 'Ann' } }]]]);
  });

  it('takes the token from the handshake auth.token when the subscribe has none', async () => {
    const echo = await fx.echo({ client: { auth: { headers: {}, token: await token(orders) } } });
    echo.private('orders.8');
    await relay.waitForSubscribers('private-orders.8', 1);
  });

  it('refuses a channel the token does not grant with 403', async () => {
    const echo = await echoWith(await token(orders));
    expect(await refusal(echo, 'invoices.1')).toEqual(['private-invoices.1', 403]);
    // `*` stays within one segment: orders.7.items is not orders.*.
    expect(await refusal(echo, 'orders.7.items')).toEqual(['private-orders.7.items', 403]);
  });

  it('refuses a token signed with another secret with 401', async () => {
    const echo = await echoWith(await token(orders, { secret: 'some-other-secret-of-thirty-two-bytes!!' }));
    expect(await refusal(echo, 'orders.1')).toEqual(['private-orders.1', 401]);
  });

  it('refuses an expired token with 401', async () => {
    const echo = await echoWith(await token(orders, { expiresIn: Math.floor(Date.now() / 1000) - 60 }));
    expect(await refusal(echo, 'orders.1')).toEqual(['private-orders.1', 401]);
  });

  it('refuses a subscribe without any token with 401', async () => {
    const echo = await fx.echo();
    expect(await refusal(echo, 'orders.1')).toEqual(['private-orders.1', 401]);
  });

  it('refuses a presence channel when the token names no user', async () => {
    const echo = await echoWith(await token({ channels: ['presence-room.*'] }));
    const errors = recordEvents(echo, 'subscription_error');
    echo.join('room.2');
    await waitUntil(() => errors.length === 1);
    expect(errors).toEqual([['presence-room.2', 403]]);
  });
});
