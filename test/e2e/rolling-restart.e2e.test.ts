import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { collect, connected, createEcho, rawSocket, type TestEcho } from '../support/echo-client.js';
import { LaravelAuthStub } from '../support/laravel-auth-stub.js';
import { LaravelPublisher } from '../support/laravel-publisher.js';
import { waitUntil } from '../support/ports.js';
import { joinPresence } from '../support/presence-view.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startReadyRelay, type TestRelay } from '../support/relay.js';
import { startBalancer, type TcpBalancer } from '../support/tcp-balancer.js';

describe('rolling restart behind a load balancer', () => {
  let redis: TestRedis;
  let app: LaravelAuthStub;
  let nodes: TestRelay[];
  let balancer: TcpBalancer;
  const clients: TestEcho[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    app = await LaravelAuthStub.start();
    app.users.set('ann', { id: 1, info: { name: 'Ann' } });
    app.users.set('bob', { id: 2, info: { name: 'Bob' } });
    const env = {
      REDIS_URL: redis.url,
      ECHO_RELAY_AUTH_HOST: app.url,
      ECHO_RELAY_SHUTDOWN_GRACE_MS: '300',
      ECHO_RELAY_SHUTDOWN_DISCONNECT_SPREAD_MS: '300',
    };
    nodes = [await startReadyRelay({ env }), await startReadyRelay({ env })];
    balancer = await startBalancer(() => nodes.map((n) => n.port));
  });

  afterAll(async () => {
    clients.forEach((echo) => echo.disconnect());
    await balancer?.close();
    for (const node of nodes ?? []) await node.stop();
    await app?.close();
    await redis?.close();
  });

  it('a stopping node sends its clients to the others, which keep receiving events; its presence members leave', async () => {
    // Echo through the balancer, reconnecting as in a browser; round robin spreads them over both nodes.
    for (let i = 0; i < 4; i++) {
      const echo = createEcho(balancer.url, i % 2 ? 2 : 4, { reconnection: true, reconnectionDelay: 100 });
      clients.push(echo);
      await connected(echo);
    }
    const got = clients.map((echo) => collect(echo, 'orders', '.shipped'));
    await waitUntil(
      () =>
        nodes[0].gateway.localSubscriberCount('orders') === 2 && nodes[1].gateway.localSubscriberCount('orders') === 2,
    );

    // A presence member that stays away after its node stops, watched from the surviving node.
    const watcher = createEcho(nodes[1].url, 4, { auth: { headers: { Authorization: 'Bearer ann' } } });
    const leaver = createEcho(nodes[0].url, 4, { auth: { headers: { Authorization: 'Bearer bob' } } });
    clients.push(watcher, leaver);
    await Promise.all([connected(watcher), connected(leaver)]);
    const view = await joinPresence(watcher, 'team');
    await joinPresence(leaver, 'team');
    await waitUntil(() => view.joining.length === 1, 5000, 'Bob joining');

    const reasons: string[] = [];
    clients.slice(0, 4).forEach((echo) => rawSocket(echo).on('disconnect', (reason) => reasons.push(String(reason))));

    await nodes[0].stop();
    await waitUntil(() => view.leaving.length === 1, 5000, "Bob's leaving as his node stops");
    assert.deepEqual(view.leaving, [{ name: 'Bob' }]);
    await waitUntil(
      () => nodes[1].gateway.localSubscriberCount('orders') === 4,
      10_000,
      'every client on the surviving node',
    );

    const laravel = new LaravelPublisher(redis.url, '');
    await laravel.broadcast(['orders'], 'shipped', { id: 1 });
    await laravel.close();
    await waitUntil(() => got.every((g) => g.length === 1), 5000, 'delivery after the move');
    for (const g of got) assert.deepEqual(g, [{ id: 1 }]);
    assert.deepEqual(reasons, ['transport close', 'transport close'], "only the stopped node's two clients moved");
  });
});
