import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { launchChromium, type TestBrowser } from '../support/browser.js';
import { demoMissing, paymentCallback, readQrCode, startDemo, type RunningDemo } from '../support/demo.js';
import { connected, createEcho, recordEvents } from '../support/echo-client.js';
import { waitUntil } from '../support/ports.js';

/**
 * examples/laravel-demo as a user runs it: run.sh starts Redis, the bundled echo-relay and the
 * Laravel 8 app; Chromium plays the desktop, plain HTTP requests play the phone and the payment
 * provider. Every page change here can only come from a broadcast: the pages poll nothing.
 */
const missing = demoMissing();
const title = (name: string): string => (missing ? `${name} (skipped: ${missing})` : name);
// Jest lists no titles of a skipped file: say why here, or the demo would go untested unnoticed.
if (missing) console.warn(`demo.e2e: skipped, ${missing}`);
const run = promisify(execFile);

(missing ? describe.skip : describe)(title('the Laravel demo: QR login and a live order page'), () => {
  let demo: RunningDemo;
  let browser: TestBrowser;
  const opened: Page[] = [];

  beforeAll(async () => {
    demo = await startDemo();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  afterEach(async () => {
    for (const page of opened.splice(0)) await page.close();
    await browser.context.clearCookies();
  });

  async function open(path: string): Promise<{ page: Page; errors: string[] }> {
    const opening = await browser.open(demo.app + path);
    opened.push(opening.page);
    return opening;
  }

  /**
   * Waits until the relay counts one socket in `channel`. A timeout says what the page reported and
   * what Redis, echo-relay and the app logged last: the browser's subscribe crosses all three.
   */
  async function subscribed(channel: string, what: string, errors: string[]): Promise<void> {
    try {
      await waitUntil(async () => (await demo.subscribers(channel)) === 1, 10_000, what);
    } catch (err) {
      const tail = demo.output().slice(-4000);
      throw new Error(
        `${(err as Error).message}\npage errors: ${JSON.stringify(errors)}\ndemo output, last lines:\n${tail}`,
        { cause: err },
      );
    }
  }

  /** The desktop's login page, once its Echo holds the login channel (authorised by Laravel). */
  async function loginPage(): Promise<{ page: Page; errors: string[]; url: string; token: string }> {
    const { page, errors } = await open('/login');
    // What the phone's camera would read: the URL comes from the QR code's pixels.
    const url = await readQrCode(await page.locator('#qr svg').screenshot());
    const token = /\/qr\/([A-Za-z0-9]{40})$/.exec(url)?.[1] ?? '';
    expect(url).toBe(`${demo.app}/qr/${token}`);
    await subscribed(`private-login.${token}`, 'the login channel', errors);
    return { page, errors, url, token };
  }

  /** The phone "scans": a plain GET of the code's URL, without the desktop's cookies. */
  async function scan(url: string): Promise<{ status: number; text: string }> {
    const res = await fetch(url);
    return { status: res.status, text: await res.text() };
  }

  async function loggedIn(): Promise<{ page: Page; errors: string[] }> {
    const { page, errors, url } = await loginPage();
    expect((await scan(url)).status).toBe(200);
    await page.waitForURL(`${demo.app}/home`);
    return { page, errors };
  }

  it('(a) QR login: the phone scans the code, LoginApproved reaches the desktop, whose session logs in', async () => {
    const { page, errors, url } = await loginPage();
    expect(await page.textContent('#status')).toBe('Waiting for your phone…');
    expect(await scan(url)).toEqual({ status: 200, text: 'Approved: the desktop is being logged in as Ada Lovelace.' });
    await page.waitForURL(`${demo.app}/home`);
    expect(await page.textContent('#user')).toBe('Ada Lovelace');
    // The session is really authenticated: its cookie opens /home outside the browser too...
    const cookie = (await browser.context.cookies(demo.app)).map((c) => `${c.name}=${c.value}`).join('; ');
    expect((await fetch(`${demo.app}/home`, { headers: { cookie }, redirect: 'manual' })).status).toBe(200);
    // ...while a request without it is sent to the login page.
    const guest = await fetch(`${demo.app}/home`, { redirect: 'manual' });
    expect([guest.status, guest.headers.get('location')]).toEqual([302, `${demo.app}/login`]);
    // A code logs in once.
    expect((await scan(url)).status).toBe(410);
    expect(errors).toEqual([]);
  });

  it('(b) order: the signed payment callback broadcasts OrderPaid and the open page turns "paid" in place', async () => {
    const { page, errors } = await loggedIn();
    await page.click('#order');
    await page.waitForURL(/\/orders\/\d+$/);
    const orderId = Number(new URL(page.url()).pathname.split('/').pop());
    expect(await page.textContent('#status')).toBe('pending');
    await subscribed(`private-orders.${orderId}`, 'the order channel', errors);
    await page.evaluate('window.sameDocument = true');

    // Callbacks the app refuses: a wrong signature, an unknown order, a malformed body.
    const paid = { order_id: orderId, status: 'paid' };
    expect((await paymentCallback(demo.app, paid, 'not-the-secret')).status).toBe(401);
    expect((await paymentCallback(demo.app, { order_id: 999_999, status: 'paid' })).status).toBe(404);
    expect((await paymentCallback(demo.app, { order_id: String(orderId) })).status).toBe(422);

    expect((await paymentCallback(demo.app, paid)).status).toBe(204);
    await page.waitForFunction("document.getElementById('status').textContent === 'paid'");
    expect(await page.getAttribute('#status', 'class')).toBe('status paid');
    // Changed by the broadcast, not by a reload.
    expect(await page.evaluate('window.sameDocument')).toBe(true);

    // The provider retries its callback (here through the README's pay.sh): accepted again, and
    // the order stays paid after a reload.
    expect(await demo.pay(orderId)).toBe('204');
    await page.reload();
    expect(await page.textContent('#status')).toBe('paid');
    expect(errors).toEqual([]);
  });

  it("another session is refused the desktop's login channel and any order's, and gets its own", async () => {
    const { token: victim } = await loginPage();
    // A second desktop, in Node: its own session cookie and CSRF token, as its page would send them.
    const res = await fetch(`${demo.app}/login`);
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const html = await res.text();
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(html)?.[1] ?? '';
    const own = /\/qr\/([A-Za-z0-9]{40})/.exec(html)?.[1] ?? '';
    const echo = createEcho(demo.relay, 4, {
      extraHeaders: { cookie },
      auth: { headers: { 'X-CSRF-TOKEN': csrf } },
    });
    try {
      await connected(echo);
      const errors = recordEvents(echo, 'subscription_error');
      echo.private(`login.${own}`);
      await waitUntil(async () => (await demo.subscribers(`private-login.${own}`)) === 1, 10_000, 'its own channel');
      echo.private(`login.${victim}`);
      echo.private('orders.1001');
      await waitUntil(() => errors.length === 2, 10_000, 'two subscription errors');
      expect(errors).toEqual(
        expect.arrayContaining([
          [`private-login.${victim}`, 403],
          ['private-orders.1001', 403],
        ]),
      );
      expect(await demo.subscribers(`private-login.${victim}`)).toBe(1);
    } finally {
      echo.disconnect();
    }
  });

  it('Ctrl-C stops Redis, echo-relay and the app', async () => {
    await demo.stop('SIGINT');
    await waitUntil(() => demo.portsFree(), 10_000, 'the three ports released');
  });
});

const QR_CLASSES = fileURLToPath(new URL('../../../examples/laravel-demo/app/Support/', import.meta.url));
/** The most bytes each version (1-6) holds at level M. */
const CAPACITY = [14, 26, 42, 62, 84, 106];

/** Asks the demo's PHP encoder for SVGs of `codes` ([text, mask]), or for its error. */
async function qrSvgs(codes: [string, number][]): Promise<string[]> {
  const script = `require '${QR_CLASSES}ReedSolomon.php'; require '${QR_CLASSES}QrCode.php';
    $codes = json_decode(stream_get_contents(STDIN), true);
    echo json_encode(array_map(fn ($c) => App\\Support\\QrCode::svg($c[0], 3, $c[1]), $codes));`;
  const child = run('php', ['-r', script], { timeout: 20_000 });
  child.child.stdin?.end(JSON.stringify(codes));
  return JSON.parse((await child).stdout) as string[];
}

(missing ? describe.skip : describe)(title("the demo's QR encoder, read by zbar"), () => {
  let browser: TestBrowser;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('every version at its full capacity, under every mask, decodes to its text', async () => {
    const codes = CAPACITY.flatMap((bytes, v) =>
      [0, 1, 2, 3, 4, 5, 6, 7].map((mask): [string, number] => {
        const head = `v${v + 1} mask ${mask} https://shop.test/`;
        return [(head + 'x'.repeat(bytes)).slice(0, bytes), mask];
      }),
    );
    const svgs = await qrSvgs(codes);
    const { page } = await browser.open('about:blank');
    await page.setContent(`<body style="margin:0;display:flex;flex-wrap:wrap">${svgs.join('')}</body>`);
    const read: string[] = [];
    for (const svg of await page.locator('svg').all()) read.push(await readQrCode(await svg.screenshot()));
    await page.close();
    expect(read).toEqual(codes.map(([text]) => text));
  });

  it('refuses a text longer than version 6 holds, naming the limit', async () => {
    await expect(qrSvgs([['x'.repeat(107), 0]])).rejects.toThrow(/QR text too long: 107 bytes, at most 106/);
  });
});
