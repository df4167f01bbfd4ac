// Takes the README's screenshots of both flows from a running demo (`examples/laravel-demo/run.sh`),
// in Debian's Chromium driven by playwright-core, as the demo spec does:
//   node examples/laravel-demo/screenshots.mjs        (DEMO_HOST and DEMO_APP_PORT as given to run.sh)
/* global fetch, URL */
import { createHmac } from 'node:crypto';
import { chromium } from 'playwright-core';

const app = `http://${process.env.DEMO_HOST ?? '127.0.0.1'}:${process.env.DEMO_APP_PORT ?? 8000}`;
const out = (name) => new URL(`screenshots/${name}.png`, import.meta.url).pathname;
const secret = process.env.PAYMENT_WEBHOOK_SECRET ?? 'demo-webhook-secret';

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 720, height: 440 } });

  // (a) The desktop shows the code; the "phone" opens its URL; the page logs in by itself.
  await page.goto(`${app}/login`);
  await page.waitForTimeout(500); // the subscription's round trip through /broadcasting/auth
  await page.screenshot({ path: out('qr-login') });
  const scan = await fetch(await page.locator('#qr').getAttribute('data-url'));
  console.log('scan:', scan.status, await scan.text());
  await page.waitForURL(`${app}/home`);
  await page.screenshot({ path: out('logged-in') });

  // (b) An order, then the payment provider's signed callback; the page turns "paid" in place.
  await page.click('#order');
  await page.waitForURL(/\/orders\/\d+$/);
  await page.waitForTimeout(500);
  const orderId = Number(page.url().split('/').pop());
  const body = JSON.stringify({ order_id: orderId, status: 'paid' });
  const signature = createHmac('sha256', secret).update(body).digest('hex');
  const paid = await fetch(`${app}/webhooks/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': signature },
    body,
  });
  console.log('payment callback:', paid.status);
  await page.waitForFunction("document.getElementById('status').textContent === 'paid'");
  await page.screenshot({ path: out('order-paid') });
} finally {
  await browser.close();
}
