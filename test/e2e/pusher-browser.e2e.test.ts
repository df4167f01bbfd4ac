import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { chromiumMissing, launchChromium, type TestBrowser } from '../support/browser.js';
import { useFixture } from '../support/fixture.js';
import { sharedSecret } from '../support/laravel-auth-stub.js';
import { startPageServer, type PageServer } from '../support/page-server.js';
import { encrypt, PUSHER_APP, PUSHER_CLIENTS_ENV } from '../support/pusher-client.js';
import type { TestRelay } from '../support/relay.js';

const packageFile = (path: string): string => fileURLToPath(new URL(`../../../node_modules/${path}`, import.meta.url));

/**
 * A Laravel 11 page's bootstrap.js as script tags: pusher-js's browser build and Echo's `reverb`
 * broadcaster, subscribed to `orders` and `private-chat.1`. Channel auth goes to `window.signChannel`
 * (exposed by the spec, which asks the auth stub), as pusher-js would ask `/broadcasting/auth`.
 */
function reverbPage(port: number): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>waiting</title><link rel="icon" href="data:,">
<script src="/pusher.js"></script>
<script src="/echo.iife.js"></script>
<script>
  window.received = [];
  window.whispers = [];
  window.states = [];
  window.Echo = new Echo.default({
    broadcaster: 'reverb', key: ${JSON.stringify(PUSHER_APP.key)}, Pusher,
    wsHost: '127.0.0.1', wsPort: ${port}, wssPort: ${port}, forceTLS: false, enabledTransports: ['ws'],
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) =>
        window.signChannel(socketId, channelName).then((auth) => callback(null, auth), (err) => callback(err, null)),
    },
  });
  window.Echo.connector.pusher.connection.bind('state_change', (s) => window.states.push(s.current));
  window.Echo.channel('orders').listen('.OrderShipped', (e) => {
    window.received.push(e);
    document.title = 'shipped ' + e.id;
  });
  window.Echo.private('chat.1').listenForWhisper('typing', (e) => window.whispers.push(e));
</script></head><body></body></html>`;
}

/**
 * The same with Echo's `pusher` broadcaster and pusher-js's build with encryption, as an app on
 * Laravel's Pusher driver has it: a presence channel and a `private-encrypted-` one.
 */
function pusherPage(port: number): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>waiting</title><link rel="icon" href="data:,">
<script src="/pusher-with-encryption.js"></script>
<script src="/echo.iife.js"></script>
<script>
  window.here = null;
  window.joined = [];
  window.left = [];
  window.secrets = [];
  window.Echo = new Echo.default({
    broadcaster: 'pusher', key: ${JSON.stringify(PUSHER_APP.key)}, cluster: 'mt1', Pusher,
    wsHost: '127.0.0.1', wsPort: ${port}, wssPort: ${port}, forceTLS: false, enabledTransports: ['ws'],
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) =>
        window.signChannel(socketId, channelName).then((auth) => callback(null, auth), (err) => callback(err, null)),
    },
  });
  window.Echo.join('room')
    .here((users) => { window.here = users; })
    .joining((user) => window.joined.push(user))
    .leaving((user) => window.left.push(user));
  window.Echo.encryptedPrivate('vault.1').listen('.Secret', (e) => window.secrets.push(e));
</script></head><body></body></html>`;
}

(chromiumMissing() ? describe.skip : describe)('pusher-js with Echo reverb in Chromium', () => {
  const fx = useFixture({
    nodes: 0,
    auth: { ann: { id: 1, info: { name: 'Ann' } }, bob: { id: 2, info: { name: 'Bob' } } },
  });
  let pages: PageServer;
  let relay: TestRelay;
  let browser: TestBrowser;
  const opened: Page[] = [];

  beforeAll(async () => {
    pages = await startPageServer({
      '/echo.iife.js': packageFile('laravel-echo/dist/echo.iife.js'),
      '/pusher.js': packageFile('pusher-js/dist/web/pusher.js'),
      '/pusher-with-encryption.js': packageFile('pusher-js/dist/web/pusher-with-encryption.js'),
    });
    fx.defer(() => pages.close());
    fx.app.pusherApp = PUSHER_APP;
    relay = await fx.startNode({
      env: { ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV, ECHO_RELAY_ALLOWED_ORIGINS: pages.origin },
    });
    browser = await launchChromium();
    fx.defer(() => browser.close());
  });

  afterEach(async () => {
    for (const page of opened.splice(0)) await page.close();
  });

  async function open(
    path: string,
    port: number,
    site: PageServer = pages,
    html: (port: number) => string = reverbPage,
  ): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.context.newPage();
    opened.push(page);
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.exposeFunction('signChannel', async (socketId: string, channel: string) => {
      const res = await fetch(`${fx.app.url}/broadcasting/auth`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Bearer ann' },
        body: new URLSearchParams({ socket_id: socketId, channel_name: channel }).toString(),
      });
      return res.json();
    });
    await page.goto(site.page(path, html(port)));
    return { page, errors };
  }

  it("receives Laravel's broadcasts and a socket.io client's whispers", async () => {
    const { page, errors } = await open('/app', relay.port);
    await relay.waitForSubscribers('private-chat.1', 1);
    await fx.laravel.broadcast(['orders'], 'OrderShipped', { id: 7, note: 'Grüße 😀' });
    await page.waitForFunction("document.title === 'shipped 7'");
    expect(await page.evaluate('window.received')).toEqual([{ id: 7, note: 'Grüße 😀' }]);
    const ann = await fx.echoAs('ann', { on: relay });
    ann.private('chat.1');
    await relay.waitForSubscribers('private-chat.1', 2);
    ann.private('chat.1').whisper('typing', { who: 'ann' });
    await page.waitForFunction('window.whispers.length === 1');
    expect(await page.evaluate('window.whispers')).toEqual([{ who: 'ann' }]);
    expect(errors).toEqual([]);
  });

  it("with Echo's pusher broadcaster: presence shared with a socket.io client, and an encrypted channel decrypted in the page", async () => {
    const { page, errors } = await open('/pusher', relay.port, pages, pusherPage);
    await page.waitForFunction('window.here !== null');
    expect(await page.evaluate('window.here')).toEqual([{ name: 'Ann' }]);
    await relay.waitForSubscribers('private-encrypted-vault.1', 1);
    // Bob joins from socket.io: the page sees him come and go.
    const bob = await fx.echoAs('bob', { on: relay });
    bob.join('room');
    await page.waitForFunction('window.joined.length === 1');
    expect(await page.evaluate('window.joined')).toEqual([{ name: 'Bob' }]);
    bob.leave('room');
    await page.waitForFunction('window.left.length === 1');
    expect(await page.evaluate('window.left')).toEqual([{ name: 'Bob' }]);
    // Laravel's pusher driver encrypts with the channel's key; the relay passes it on untouched.
    const name = 'private-encrypted-vault.1';
    await fx.laravel.broadcast([name], 'Secret', encrypt(sharedSecret(name), { code: 'open sesame' }));
    await page.waitForFunction('window.secrets.length === 1');
    expect(await page.evaluate('window.secrets')).toEqual([{ code: 'open sesame' }]);
    expect(errors).toEqual([]);
  });

  it('a page on an origin the relay does not allow is refused with 4009 and never connects', async () => {
    const foreign = await startPageServer({
      '/echo.iife.js': packageFile('laravel-echo/dist/echo.iife.js'),
      '/pusher.js': packageFile('pusher-js/dist/web/pusher.js'),
    });
    fx.defer(() => foreign.close());
    const { page } = await open('/foreign', relay.port, foreign);
    // 4000-4099: pusher-js gives up (disconnected) rather than reconnecting.
    await page.waitForFunction("window.states.includes('disconnected')");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await page.evaluate('window.states')).toEqual(['connecting', 'disconnected']);
    expect(relay.gateway.localSubscriberCount('orders')).toBe(0);
  });
});
