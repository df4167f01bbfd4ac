import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { chromiumMissing, launchChromium, type TestBrowser } from '../support/browser.js';
import type { LaravelPublisher } from '../support/laravel-publisher.js';
import { startPageServer, type PageServer } from '../support/page-server.js';
import { waitUntil } from '../support/ports.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReadyRelay, type TestRelay } from '../support/relay.js';
import { useFixture } from '../support/fixture.js';

const PREFIX = 'laravel_database_';
/** A file of an installed package (their `exports` hide the browser bundles from `require.resolve`). */
const packageFile = (path: string): string => fileURLToPath(new URL(`../../../node_modules/${path}`, import.meta.url));

/**
 * A Laravel page's bootstrap.js as plain script tags: Echo over the socket.io client loaded from
 * `ioSrc`, listening for `.order.shipped` on `orders` and showing it in the title.
 */
function echoPage(relayUrl: string, ioSrc: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>waiting</title><link rel="icon" href="data:,">
<script src="${ioSrc}"></script>
<script src="/echo.iife.js"></script>
<script>
  window.received = [];
  window.connectErrors = [];
  window.everConnected = false;
  // The IIFE build exposes laravel-echo's module namespace: the class is its default export.
  window.Echo = new Echo.default({ broadcaster: 'socket.io', host: ${JSON.stringify(relayUrl)}, client: io });
  const socket = window.Echo.connector.socket;
  socket.on('connect', () => { window.everConnected = true; });
  socket.on('connect_error', (err) => window.connectErrors.push(String(err && err.message)));
  window.Echo.channel('orders').listen('.order.shipped', (e) => {
    window.received.push(e);
    document.title = 'shipped ' + e.id;
  });
</script></head><body></body></html>`;
}

(chromiumMissing() ? describe.skip : describe)('Laravel Echo in a real browser (Chromium)', () => {
  let relay: TestRelay;
  let pages: PageServer;
  let browser: TestBrowser;
  let laravel: LaravelPublisher;
  const opened: Page[] = [];
  const fx = useFixture({ nodes: 0, prefix: PREFIX });

  beforeAll(async () => {
    pages = await startPageServer({
      '/echo.iife.js': packageFile('laravel-echo/dist/echo.iife.js'),
      '/socket.io-v2.js': packageFile('socket.io-client-v2/dist/socket.io.js'),
    });
    fx.defer(() => pages.close());
    relay = await fx.startNode({ env: { ECHO_RELAY_ALLOWED_ORIGINS: pages.origin } });
    laravel = fx.laravel;
    browser = await launchChromium();
    fx.defer(() => browser.close());
  });

  afterEach(async () => {
    for (const page of opened.splice(0)) await page.close();
    await relay.waitForSubscribers('orders', 0);
  });

  async function openEchoPage(
    path: string,
    relayUrl: string,
    ioSrc: string,
  ): Promise<{ page: Page; errors: string[] }> {
    const opening = await browser.open(pages.page(path, echoPage(relayUrl, ioSrc)));
    opened.push(opening.page);
    return opening;
  }

  async function eioConnections(target: TestRelay, eio: string): Promise<number> {
    return (await target.metrics.connections.get()).values.find((v) => v.labels.eio === eio)?.value ?? 0;
  }

  it("receives a broadcast through the relay's own /socket.io/socket.io.js, upgraded to WebSocket", async () => {
    const { page, errors } = await openEchoPage('/modern', relay.url, `${relay.url}/socket.io/socket.io.js`);
    await relay.waitForSubscribers('orders', 1);
    await page.waitForFunction("window.Echo.connector.socket.io.engine.transport.name === 'websocket'");
    await laravel.broadcast(['orders'], 'order.shipped', { id: 7, url: 'https://shop.test/orders/7' });
    await page.waitForFunction("document.title === 'shipped 7'");
    expect(await page.evaluate('window.received')).toEqual([{ id: 7, url: 'https://shop.test/orders/7' }]);
    expect(await eioConnections(relay, '4')).toBe(1);
    expect(errors).toEqual([]);
  });

  it('a page on an origin the relay does not allow never connects', async () => {
    const strict = await fx.startNode({ env: { ECHO_RELAY_ALLOWED_ORIGINS: 'https://shop.example' } });
    const { page } = await openEchoPage('/refused', strict.url, `${strict.url}/socket.io/socket.io.js`);
    // The first attempt and one reconnection attempt are both refused.
    await page.waitForFunction('window.connectErrors.length >= 2');
    expect(await page.evaluate('window.everConnected')).toBe(false);
    expect(await eioConnections(strict, '4')).toBe(0);
  });

  it("a legacy page on socket.io-client 2's browser bundle connects over Engine.IO 3 and receives", async () => {
    const { page, errors } = await openEchoPage('/legacy', relay.url, '/socket.io-v2.js');
    await relay.waitForSubscribers('orders', 1);
    await waitUntil(async () => (await eioConnections(relay, '3')) === 1, 5000, 'an Engine.IO 3 connection');
    await laravel.broadcast(['orders'], 'order.shipped', { id: 8, note: 'Grüße 😀' });
    await page.waitForFunction("document.title === 'shipped 8'");
    expect(await page.evaluate('window.received')).toEqual([{ id: 8, note: 'Grüße 😀' }]);
    expect(errors).toEqual([]);
  });
});

/** A page whose Echo connects over the given transports only and records what happens. */
function transportPage(relayUrl: string, ioSrc: string, transports: string[]): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>waiting</title><link rel="icon" href="data:,">
<script src="${ioSrc}"></script>
<script src="/echo.iife.js"></script>
<script>
  window.connectErrors = [];
  window.everConnected = false;
  window.Echo = new Echo.default({
    broadcaster: 'socket.io', host: ${JSON.stringify(relayUrl)}, client: io,
    transports: ${JSON.stringify(transports)}, reconnectionDelay: 100, reconnectionDelayMax: 200,
  });
  const socket = window.Echo.connector.socket;
  socket.on('connect', () => { window.everConnected = true; });
  socket.on('connect_error', (err) => window.connectErrors.push(String(err && err.message)));
  window.Echo.channel('orders');
</script></head><body></body></html>`;
}

(chromiumMissing() ? describe.skip : describe)("the old file's socketio.origins in Chromium", () => {
  let allowed: PageServer;
  let foreign: PageServer;
  let browser: TestBrowser;
  const opened: Page[] = [];
  const fx = useFixture({ nodes: 0 });
  const scripts = { '/echo.iife.js': packageFile('laravel-echo/dist/echo.iife.js') };

  beforeAll(async () => {
    allowed = await startPageServer(scripts);
    fx.defer(() => allowed.close());
    foreign = await startPageServer(scripts);
    fx.defer(() => foreign.close());
    browser = await launchChromium();
    fx.defer(() => browser.close());
  });

  afterEach(async () => {
    for (const page of opened.splice(0)) await page.close();
  });

  /** A relay started from a laravel-echo-server.json whose `socketio` block names `origins`. */
  async function relayWithOrigins(origins: unknown): Promise<TestRelay> {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-browser-'));
    const path = join(dir, 'laravel-echo-server.json');
    writeFileSync(path, JSON.stringify({ socketio: { origins } }));
    const relay = await startReadyRelay({ env: fx.env, file: path });
    fx.defer(() => relay.stop());
    fx.defer(() => rmSync(dir, { recursive: true, force: true }));
    return relay;
  }

  async function open(site: PageServer, relay: TestRelay, transport: string): Promise<Page> {
    const html = transportPage(relay.url, `${relay.url}/socket.io/socket.io.js`, [transport]);
    const { page } = await browser.open(site.page(`/${transport}-${relay.port}`, html));
    opened.push(page);
    return page;
  }

  const port = (site: PageServer): string => new URL(site.origin).port;

  for (const form of ['string', 'array'] as const) {
    for (const transport of ['websocket', 'polling']) {
      it(`${form} form: the allowed site connects over ${transport}, a foreign site never does`, async () => {
        const origins = form === 'string' ? `127.0.0.1:${port(allowed)} app.example.com:443` : [`*:${port(allowed)}`];
        const relay = await relayWithOrigins(origins);
        const refused = await open(foreign, relay, transport);
        await refused.waitForFunction('window.connectErrors.length >= 2');
        expect(await refused.evaluate('window.everConnected')).toBe(false);
        const welcome = await open(allowed, relay, transport);
        await welcome.waitForFunction('window.everConnected === true');
        await relay.waitForSubscribers('orders', 1);
        expect(await welcome.evaluate('window.Echo.connector.socket.io.engine.transport.name')).toBe(transport);
      });
    }
  }
});
