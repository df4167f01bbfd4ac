import { beforeAll, describe, expect, it } from '@jest/globals';
import { PresenceDirectory } from '../../src/channels/presence-directory.js';
import { collect } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import type { LaravelPublisher } from '../support/laravel-publisher.js';
import { waitUntil } from '../support/ports.js';
import { byJson, joinPresence } from '../support/presence-view.js';
import type { TestRelay } from '../support/relay.js';

const PREFIX_A = 'shop_database_';
const PREFIX_B = 'blog_database_';
const ANN = { id: 1, info: { name: 'Ann' } };
const BOB = { id: 2, info: { name: 'Bob' } };

/**
 * Two Laravel apps on one Redis, told apart by their prefixes (Laravel's default prefix is the
 * app's name), each with its own relay. The relays keep history, presence and cross-node emits in
 * Redis: none of it may cross from one app to the other, whose channels have the same names.
 */
describe('two Laravel apps sharing one Redis with different prefixes', () => {
  const fx = useFixture({ prefix: PREFIX_A, auth: { ann: ANN, bob: BOB } });
  let shop: TestRelay;
  let blog: TestRelay;
  let shopLaravel: LaravelPublisher;
  let blogLaravel: LaravelPublisher;

  beforeAll(async () => {
    shop = fx.relay;
    shopLaravel = fx.laravel;
    blog = await fx.startNode({ env: { REDIS_PREFIX: PREFIX_B } });
    blogLaravel = fx.publishTo(fx.redis.url, PREFIX_B);
  });

  it("delivers each app's broadcasts to its own clients only, on channels of the same name", async () => {
    const atShop = await fx.echoOn('orders', { on: shop });
    const atBlog = await fx.echoOn('orders', { on: blog });
    const shopGot = collect(atShop, 'orders', '.tick');
    const blogGot = collect(atBlog, 'orders', '.tick');
    await shop.waitForSubscribers('orders', 1);
    await blog.waitForSubscribers('orders', 1);

    await shopLaravel.broadcast(['orders'], 'tick', { app: 'shop', n: 1 });
    await shopLaravel.broadcast(['orders'], 'tick', { app: 'shop', n: 2 });
    await blogLaravel.broadcast(['orders'], 'tick', { app: 'blog', n: 1 });
    await waitUntil(() => shopGot.length >= 2 && blogGot.length >= 1, 5000, 'both apps delivered');
    // Each relay delivers from its app's history: a shared one would have given the blog's client
    // the shop's two broadcasts before its own.
    expect(blogGot).toEqual([{ app: 'blog', n: 1 }]);
    expect(shopGot).toEqual([
      { app: 'shop', n: 1 },
      { app: 'shop', n: 2 },
    ]);
  });

  it("keeps each app's presence members to itself", async () => {
    const ann = await fx.echoAs('ann', { on: shop });
    const annView = await joinPresence(ann, 'lobby');
    const bob = await fx.echoAs('bob', { on: blog });
    const bobView = await joinPresence(bob, 'lobby');
    expect(annView.here).toEqual([ANN.info]);
    expect(bobView.here).toEqual([BOB.info]);
    expect(byJson(await shop.app.get(PresenceDirectory).members('presence-lobby'))).toEqual([
      { user_id: 1, user_info: ANN.info },
    ]);
    expect(await blog.app.get(PresenceDirectory).members('presence-lobby')).toEqual([
      { user_id: 2, user_info: BOB.info },
    ]);
    expect(annView.joining).toEqual([]);
  });

  it("asks only its own app's nodes for their sockets (socket.io's Redis adapter)", async () => {
    await fx.echoOn('inbox', { on: shop });
    await fx.echoOn('inbox', { on: blog });
    await shop.waitForSubscribers('inbox', 1);
    await blog.waitForSubscribers('inbox', 1);
    expect(await shop.gateway.clusterSockets('inbox')).toHaveLength(1);
    expect(await blog.gateway.clusterSockets('inbox')).toHaveLength(1);
  });
});
