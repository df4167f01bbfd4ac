import { beforeAll, describe, expect, it } from '@jest/globals';
import { collect, connected, rawSocket, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { waitUntil } from '../support/ports.js';
import { joinPresence } from '../support/presence-view.js';
import type { TestRelay } from '../support/relay.js';
import { startBalancer, type TcpBalancer } from '../support/tcp-balancer.js';

describe('rolling restart behind a load balancer', () => {
  const fx = useFixture({
    nodes: 2,
    auth: { ann: { id: 1, info: { name: 'Ann' } }, bob: { id: 2, info: { name: 'Bob' } } },
    env: { ECHO_RELAY_SHUTDOWN_GRACE_MS: '300', ECHO_RELAY_SHUTDOWN_DISCONNECT_SPREAD_MS: '300' },
  });
  let nodes: TestRelay[];
  let balancer: TcpBalancer;
  const clients: TestEcho[] = [];

  beforeAll(async () => {
    nodes = fx.nodes;
    balancer = await startBalancer(() => nodes.map((n) => n.port));
    fx.defer(() => balancer.close());
  });

  it('a stopping node sends its clients to the others, which keep receiving events; its presence members leave', async () => {
    // Echo through the balancer, reconnecting as in a browser; round robin spreads them over both nodes.
    for (let i = 0; i < 4; i++) {
      const echo = fx.client({
        on: balancer.url,
        version: i % 2 ? 2 : 4,
        client: { reconnection: true, reconnectionDelay: 100 },
      });
      clients.push(echo);
      await connected(echo);
    }
    const got = clients.map((echo) => collect(echo, 'orders', '.shipped'));
    await waitUntil(
      () =>
        nodes[0].gateway.localSubscriberCount('orders') === 2 && nodes[1].gateway.localSubscriberCount('orders') === 2,
    );

    // A presence member that stays away after its node stops, watched from the surviving node.
    const watcher = fx.client({ on: nodes[1], token: 'ann' });
    const leaver = fx.client({ on: nodes[0], token: 'bob' });
    clients.push(watcher, leaver);
    await Promise.all([connected(watcher), connected(leaver)]);
    const view = await joinPresence(watcher, 'team');
    await joinPresence(leaver, 'team');
    await waitUntil(() => view.joining.length === 1, 5000, 'Bob joining');

    const reasons: string[] = [];
    clients.slice(0, 4).forEach((echo) => rawSocket(echo).on('disconnect', (reason) => reasons.push(String(reason))));

    await nodes[0].stop();
    await waitUntil(() => view.leaving.length === 1, 5000, "Bob's leaving as his node stops");
    expect(view.leaving).toEqual([{ name: 'Bob' }]);
    await waitUntil(
      () => nodes[1].gateway.localSubscriberCount('orders') === 4,
      10_000,
      'every client on the surviving node',
    );

    await fx.laravel.broadcast(['orders'], 'shipped', { id: 1 });
    await waitUntil(() => got.every((g) => g.length === 1), 5000, 'delivery after the move');
    for (const g of got) expect(g).toEqual([{ id: 1 }]);
    // only the stopped node's two clients moved
    expect(reasons).toEqual(['transport close', 'transport close']);
  });
});
