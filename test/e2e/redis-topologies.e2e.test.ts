import assert from 'node:assert/strict';
import { afterAll, describe, it } from '@jest/globals';
import { collect, connected, createEcho } from '../support/echo-client.js';
import { LaravelPublisher } from '../support/laravel-publisher.js';
import { waitUntil } from '../support/ports.js';
import { canStartTopologies, REDIS_TOPOLOGIES } from '../support/redis-topologies.js';
import { startReadyRelay, type TestRelay } from '../support/relay.js';

(canStartTopologies() ? describe : describe.skip)('Laravel broadcasts through other Redis topologies', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  for (const [name, start, env] of REDIS_TOPOLOGIES) {
    it(`${name}: every channel's broadcast arrives once`, async () => {
      const group = await start();
      cleanup.push(() => group.close());
      const relay: TestRelay = await startReadyRelay({ env: { ...env(group), REDIS_PREFIX: 'laravel_database_' } });
      cleanup.push(() => relay.stop());
      const echo = createEcho(relay.url, 4);
      cleanup.push(() => Promise.resolve(void echo.disconnect()));
      // Channel names that hash to different cluster slots, published through different nodes.
      const channels = ['orders', 'users.1', 'alerts', 'chat.42', 'news'];
      const got = channels.map((c) => collect(echo, c, '.tick'));
      await connected(echo);
      for (const c of channels) await relay.waitForSubscribers(c, 1);
      for (const [i, node] of group.nodes.entries()) {
        const laravel = new LaravelPublisher(`redis://${node}`, 'laravel_database_');
        await laravel.broadcast(channels, 'tick', { node: i });
        await laravel.close();
      }
      await waitUntil(() => got.every((g) => g.length === group.nodes.length), 5000, 'every broadcast');
      for (const g of got)
        assert.deepEqual(
          g,
          group.nodes.map((_, i) => ({ node: i })),
        );
    });
  }
});
