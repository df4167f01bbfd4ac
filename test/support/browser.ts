import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; the specs never download a browser of their own. */
export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser specs cannot run here, or `false` when Chromium is installed. */
export function chromiumMissing(): string | false {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return false;
  } catch {
    return `needs ${CHROMIUM}: apt-get install chromium (scripts/install-peers.sh)`;
  }
}

/** A headless Chromium with a fresh profile, quiet on the network except for what a page loads. */
export interface TestBrowser {
  context: BrowserContext;
  /** Opens a page and records its uncaught errors and console errors in `errors`. */
  open(url: string): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

/** Launches Debian's Chromium headless with its own throw-away `--user-data-dir`. */
export async function launchChromium(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'echo-relay-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // Fail a wait well before the test runner's own timeout, with Playwright's clearer message.
  context.setDefaultTimeout(10_000);
  return {
    context,
    async open(url) {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(msg.text());
      });
      await page.goto(url);
      return { page, errors };
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
