import { beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { chromiumMissing, launchChromium, type TestBrowser } from '../support/browser.js';
import { connected } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { startPageServer, type PageServer } from '../support/page-server.js';
import { proxyTo, recordAll, sequenced } from '../support/recovery.js';
import type { TestRelay } from '../support/relay.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

const PREFIX = 'laravel_database_';
const APP = { appId: 'app', key: 'app-key' };
const packageFile = (path: string): string => fileURLToPath(new URL(`../../../node_modules/${path}`, import.meta.url));

/**
 * A Laravel page whose Echo (socket.io-client 4 from the relay itself) reaches the relay through
 * `host` and reconnects as a browser does, recording every `.tick` on `orders` with all the raw
 * arguments, and every connect with the socket's id and whether it was recovered.
 */
function recordingPage(host: string, ioSrc: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>recovery</title><link rel="icon" href="data:,">
<script src="${ioSrc}"></script>
<script src="/echo.iife.js"></script>
<script>
  window.received = [];
  window.connects = [];
  window.disconnects = [];
  window.Echo = new Echo.default({
    broadcaster: 'socket.io', host: ${JSON.stringify(host)}, client: io,
    reconnectionDelay: 50, reconnectionDelayMax: 200,
  });
  const socket = window.Echo.connector.socket;
  socket.on('connect', () => window.connects.push({ id: socket.id, recovered: socket.recovered === true }));
  socket.on('disconnect', (reason) => window.disconnects.push(reason));
  socket.on('tick', (...args) => window.received.push(args));
  window.Echo.channel('orders');
</script></head><body></body></html>`;
}

(chromiumMissing() ? describe.skip : describe)('connection-state recovery in Chromium', () => {
  const fx = useFixture({ nodes: 0, prefix: PREFIX });
  let relay: TestRelay;
  let pages: PageServer;
  let browser: TestBrowser;
  let proxy: TcpProxy;

  beforeAll(async () => {
    pages = await startPageServer({ '/echo.iife.js': packageFile('laravel-echo/dist/echo.iife.js') });
    fx.defer(() => pages.close());
    relay = await fx.startNode({
      env: { ECHO_RELAY_ALLOWED_ORIGINS: pages.origin, ECHO_RELAY_CLIENTS: JSON.stringify([APP]) },
    });
    proxy = await proxyTo(fx, relay.port);
    browser = await launchChromium();
    fx.defer(() => browser.close());
  });

  it('a page whose connection drops receives every missed broadcast once, in order, as the same socket', async () => {
    const html = recordingPage(proxy.url, `${relay.url}/socket.io/socket.io.js`);
    const { page } = await browser.open(pages.page('/recovering', html));
    fx.defer(() => page.close());
    const observer = fx.client();
    const seen = recordAll(observer);
    observer.channel('orders');
    await connected(observer);
    await relay.waitForSubscribers('orders', 2);
    const tick = (n: number): Promise<void> => fx.laravel.broadcast(['orders'], 'tick', { n });
    await tick(1);
    await page.waitForFunction('window.received.length === 1');

    proxy.refuse();
    proxy.cut();
    await page.waitForFunction('window.disconnects.length === 1');
    await relay.waitForSubscribers('orders', 1);
    // Each published once the last is in the history: Laravel's and the API's have no order otherwise.
    const api = fx.api(APP.appId, APP.key);
    await sequenced(seen, 'orders', 'tick', () => tick(2));
    await sequenced(seen, 'orders', 'tick', async () => {
      expect((await api.publish({ channel: 'orders', name: 'tick', data: { n: 3 } })).status).toBe(200);
    });
    await sequenced(seen, 'orders', 'tick', () => tick(4));
    proxy.accept();
    await page.waitForFunction('window.connects.length === 2');
    await tick(5);
    await page.waitForFunction('window.received.length >= 5');

    const connects = await page.evaluate<{ id: string; recovered: boolean }[]>('window.connects');
    expect(connects[1]).toEqual({ id: connects[0].id, recovered: true });
    const received = await page.evaluate<unknown[][]>('window.received');
    expect(received.map(([, data]) => data)).toEqual([1, 2, 3, 4, 5].map((n) => ({ n })));
    // (channel, data, offset): the offsets the page got are those the observer got live.
    expect(received).toEqual(seen.filter(([event]) => event === 'tick').map(([, ...args]) => args));
  });
});
