import { beforeAll, describe, expect, it } from '@jest/globals';
import { CLIENT_VERSIONS, collect, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import type { ApiClient } from '../support/http-api.js';
import { waitUntil } from '../support/ports.js';
import type { TestRelay } from '../support/relay.js';

describe('Events published over HTTP reach Laravel Echo clients', () => {
  const fx = useFixture({ env: { ECHO_RELAY_CLIENTS: JSON.stringify([{ appId: 'app', key: 'app-key' }]) } });
  let relay: TestRelay;
  let api: ApiClient;

  beforeAll(() => {
    relay = fx.relay;
    api = fx.api('app', 'app-key');
  });

  const echoOn = (version: 2 | 4, channel: string): Promise<TestEcho> => fx.echoOn(channel, { version });

  async function publishOk(body: unknown, style: 'query' | 'bearer' = 'query'): Promise<void> {
    const answer = await api.publish(body, { style });
    expect([answer.status, answer.body]).toEqual([200, { message: 'ok' }]);
  }

  for (const version of CLIENT_VERSIONS) {
    describe(`socket.io-client ${version}`, () => {
      it('delivers {channel, name, data} to .listen(".name")', async () => {
        const echo = await echoOn(version, 'orders');
        const got = collect(echo, 'orders', '.order.shipped');
        await relay.waitForSubscribers('orders', 1);
        await publishOk({ channel: 'orders', name: 'order.shipped', data: { id: 7 } });
        await waitUntil(() => got.length === 1);
        expect(got).toEqual([{ id: 7 }]);
      });

      it('delivers an event named after its class to .listen("OrderShipped")', async () => {
        const echo = await echoOn(version, 'orders');
        const got = collect(echo, 'orders', 'OrderShipped');
        await relay.waitForSubscribers('orders', 1);
        await publishOk({ channel: 'orders', name: 'App\\Events\\OrderShipped', data: { id: 8 } }, 'bearer');
        await waitUntil(() => got.length === 1);
        expect(got).toEqual([{ id: 8 }]);
      });

      it('parses data sent as a JSON string, as Pusher SDKs send it', async () => {
        const echo = await echoOn(version, 'pusher');
        const got = collect(echo, 'pusher', '.message');
        await relay.waitForSubscribers('pusher', 1);
        const data = { text: 'Grüße 😀', url: 'https://shop.test/a/b', list: [1, 2] };
        await publishOk({ channel: 'pusher', name: 'message', data: JSON.stringify(data) });
        await waitUntil(() => got.length === 1);
        expect(got).toEqual([data]);
      });

      it('delivers to every channel of a "channels" array', async () => {
        const a = await echoOn(version, 'multi.a');
        const b = await echoOn(version, 'multi.b');
        const gotA = collect(a, 'multi.a', '.status');
        const gotB = collect(b, 'multi.b', '.status');
        await relay.waitForSubscribers('multi.a', 1);
        await relay.waitForSubscribers('multi.b', 1);
        await publishOk({ channels: ['multi.a', 'multi.b'], name: 'status', data: { paid: true } });
        await waitUntil(() => gotA.length === 1 && gotB.length === 1);
        expect([gotA, gotB]).toEqual([[{ paid: true }], [{ paid: true }]]);
      });

      it('leaves out the socket named by socket_id (toOthers)', async () => {
        const sender = await echoOn(version, 'chat');
        const other = await echoOn(version, 'chat');
        const senderGot = collect(sender, 'chat', '.message');
        const otherGot = collect(other, 'chat', '.message');
        await relay.waitForSubscribers('chat', 2);
        await publishOk({ channel: 'chat', name: 'message', data: { n: 1 }, socket_id: sender.socketId() });
        // The control event: once it has arrived, the first one would have too.
        await publishOk({ channel: 'chat', name: 'message', data: { n: 2 } });
        await waitUntil(() => otherGot.length === 2 && senderGot.length === 1);
        // the sender only gets the event not sent toOthers
        expect(senderGot).toEqual([{ n: 2 }]);
        expect(otherGot).toEqual([{ n: 1 }, { n: 2 }]);
      });
    });
  }

  it('reaches clients of both socket.io versions in one room with one request', async () => {
    const v4 = await echoOn(4, 'mixed');
    const v2 = await echoOn(2, 'mixed');
    const got4 = collect(v4, 'mixed', '.hello');
    const got2 = collect(v2, 'mixed', '.hello');
    await relay.waitForSubscribers('mixed', 2);
    await publishOk({ channel: 'mixed', name: 'hello', data: [] });
    await waitUntil(() => got4.length === 1 && got2.length === 1);
    expect([got4, got2]).toEqual([[[]], [[]]]);
  });

  it('delivers a request with one invalid channel to none of its channels', async () => {
    const echo = await echoOn(4, 'all-or-nothing');
    const got = collect(echo, 'all-or-nothing', '.e');
    await relay.waitForSubscribers('all-or-nothing', 1);
    const refused = await api.publish({ channels: ['all-or-nothing', 'bad channel'], name: 'e', data: { n: 1 } });
    expect(refused.status).toBe(400);
    await publishOk({ channel: 'all-or-nothing', name: 'e', data: { n: 2 } });
    await waitUntil(() => got.length === 1);
    expect(got).toEqual([{ n: 2 }]);
  });
});
