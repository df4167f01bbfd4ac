import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import bcrypt from 'bcryptjs';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import { chromiumMissing, launchChromium, type TestBrowser } from '../support/browser.js';
import { withTimeout } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { waitUntil } from '../support/ports.js';
import type { TestRelay } from '../support/relay.js';
import { cpuMs, waitListening, waitReady } from '../support/relay-process.js';
import { httpStatus } from '../support/http.js';

const USER = 'dev';
const PASSWORD = 'correct horse battery';
/** The app's own origin: the UI's origin (the relay's) is not on this list, and must still connect. */
const APP_ORIGIN = 'https://app.example';
const ADMIN_ENV = {
  ECHO_RELAY_ADMIN_UI_ENABLED: 'true',
  ECHO_RELAY_ADMIN_UI_USERNAME: USER,
  ECHO_RELAY_ADMIN_UI_PASSWORD: PASSWORD,
  ECHO_RELAY_ALLOWED_ORIGINS: APP_ORIGIN,
};

/**
 * Opens the `/admin` namespace as the UI does (socket.io-client 4, `auth` in the CONNECT packet),
 * resolving once connected with the session id the server handed out (on a login with a username
 * and password: it comes before the connection is reported), or rejecting with the server's refusal.
 */
function adminLogin(
  url: string,
  auth: Record<string, unknown>,
  headers: Record<string, string> = {},
  timeoutMs = 5000,
): Promise<{ socket: Socket; session?: string }> {
  const socket = io(`${url}/admin`, {
    auth,
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    extraHeaders: headers,
  });
  let session: string | undefined;
  socket.once('session', (id: string) => (session = id));
  return withTimeout(
    new Promise((resolve, reject) => {
      socket.once('connect', () => resolve({ socket, session }));
      socket.once('connect_error', (err) => {
        socket.close();
        reject(err);
      });
    }),
    timeoutMs,
    'admin login',
  );
}

describe('Admin UI, enabled', () => {
  const fx = useFixture({ env: ADMIN_ENV });
  let relay: TestRelay;

  beforeAll(() => {
    relay = fx.relay;
  });

  it('serves the UI at /admin/, pointed at this relay, without links to other hosts', async () => {
    const redirect = await fetch(`${relay.url}/admin`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/admin/');
    const page = await fetch(`${relay.url}/admin/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('<title>Socket.IO Admin UI</title>');
    expect(html).toContain('"namespace":"/admin"');
    expect(html).not.toMatch(/https?:\/\//);
    const script = /src="(js\/app\.[0-9a-f]+\.js)"/.exec(html)?.[1];
    const asset = await fetch(`${relay.url}/admin/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    // The icon font comes from here, not from a CDN: its stylesheet, and the font that names.
    const icons = /<link rel="stylesheet" href="(mdi\/css\/[^"]+\.css)">/.exec(html)?.[1];
    expect(icons).toBe('mdi/css/materialdesignicons.min.css');
    const stylesheet = await fetch(`${relay.url}/admin/${icons}`);
    expect(stylesheet.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const woff2 = /url\("?(\.\.\/fonts\/[^"?)]+\.woff2)\?v=[^")]*"?\)/.exec(await stylesheet.text())?.[1];
    expect(woff2).toBe('../fonts/materialdesignicons-webfont.woff2');
    const font = await fetch(new URL(`${woff2}?v=7`, `${relay.url}/admin/${icons}`));
    expect(font.status).toBe(200);
    expect(font.headers.get('content-type')).toBe('font/woff2');
    expect(
      Buffer.from(await font.arrayBuffer())
        .subarray(0, 4)
        .toString('latin1'),
    ).toBe('wOF2');
    // Only the packages' files, by their exact names: no source maps, nothing outside ui/dist, no
    // other file of the icon font's package.
    for (const path of [
      `/admin/${script}.map`,
      '/admin/../package.json',
      '/admin/%2e%2e/package.json',
      '/admin/x',
      '/admin/mdi/package.json',
      '/admin/mdi/css/materialdesignicons.min.css.map',
      '/admin/mdi/fonts/materialdesignicons-webfont.ttf',
    ]) {
      expect((await fetch(`${relay.url}${path}`)).status).toBe(404);
    }
  });

  it('logs in with the configured username and password, and refuses anything else', async () => {
    const { socket, session } = await adminLogin(relay.url, { username: USER, password: PASSWORD });
    expect(session).toMatch(/^[0-9a-f]{16}$/);
    socket.close();
    // The session id alone logs in again (the UI reconnecting after a page load).
    const again = await adminLogin(relay.url, { sessionId: session });
    expect(again.session).toBeUndefined();
    again.socket.close();
    for (const auth of [
      { username: USER, password: 'wrong' },
      { username: 'admin', password: PASSWORD },
      { sessionId: 'forged-session' },
    ]) {
      await expect(adminLogin(relay.url, auth)).rejects.toThrow('invalid credentials');
    }
  });

  it('refuses login fields that are no strings as invalid credentials, and stays up', async () => {
    for (const auth of [
      { username: USER },
      { username: USER, password: 123 },
      { sessionId: { id: 1 } },
      { sessionId: 'unknown', username: USER, password: 123 },
    ]) {
      await expect(adminLogin(relay.url, auth)).rejects.toThrow('invalid credentials');
    }
    // Refused before the package's check, not by a failure of it.
    expect(relay.logs.matching(/the login check failed/)).toEqual([]);
    (await adminLogin(relay.url, { username: USER, password: PASSWORD })).socket.close();
  });

  it("accepts the UI's own origin despite allowedOrigins, and still refuses other sites", async () => {
    (await adminLogin(relay.url, { username: USER, password: PASSWORD }, { Origin: relay.url })).socket.close();
    await expect(
      adminLogin(relay.url, { username: USER, password: PASSWORD }, { Origin: 'https://evil.example' }),
    ).rejects.toThrow();
    await expect(
      fx.echoOn('orders', { client: { extraHeaders: { Origin: 'https://evil.example' } } }),
    ).rejects.toThrow();
  });

  it('is served on the socket port only, not on the separate HTTP API port', async () => {
    const split = await fx.startNode({ env: { ...ADMIN_ENV, ECHO_RELAY_API_PORT: '0' } });
    expect(split.apiUrl).not.toBe(split.url);
    expect((await fetch(`${split.url}/admin/`)).status).toBe(200);
    expect((await fetch(`${split.apiUrl}/admin/`)).status).toBe(404);
  });

  it('takes a bcrypt hash as the password', async () => {
    const hashed = await fx.startNode({
      env: { ...ADMIN_ENV, ECHO_RELAY_ADMIN_UI_PASSWORD: bcrypt.hashSync('from-a-hash', 4) },
    });
    (await adminLogin(hashed.url, { username: USER, password: 'from-a-hash' })).socket.close();
    await expect(adminLogin(hashed.url, { username: USER, password: 'wrong' })).rejects.toThrow('invalid credentials');
  });
});

describe('Admin UI logins, bounded', () => {
  // This test is the proxy: X-Forwarded-For names the client address.
  const fx = useFixture({ env: { ...ADMIN_ENV, ECHO_RELAY_TRUSTED_PROXIES: '127.0.0.1,::1' }, nodes: 0 });
  const TOO_MANY = 'too many failed logins, try again in a minute';

  function loginFrom(relay: TestRelay, address: string, password: string): ReturnType<typeof adminLogin> {
    return adminLogin(relay.url, { username: USER, password }, { 'X-Forwarded-For': address });
  }

  /** Each login's outcome: the refusal's message, or "connected". */
  async function outcomes(logins: ReturnType<typeof adminLogin>[]): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const result of await Promise.allSettled(logins)) {
      if (result.status === 'fulfilled') result.value.socket.close();
      const outcome = result.status === 'fulfilled' ? 'connected' : (result.reason as Error).message;
      counts[outcome] = (counts[outcome] ?? 0) + 1;
    }
    return counts;
  }

  /** `echo_relay_admin_ui_logins_total` by result, from a relay's `/metrics`. */
  async function scraped(url: string): Promise<Record<string, number>> {
    const text = await (await fetch(`${url}/metrics`)).text();
    const counts: Record<string, number> = {};
    for (const [, result, value] of text.matchAll(/^echo_relay_admin_ui_logins_total\{result="(\w+)"\} (\d+)$/gm)) {
      counts[result] = Number(value);
    }
    return counts;
  }

  /** `echo_relay_admin_ui_logins_total` by result. */
  async function counted(relay: TestRelay): Promise<Record<string, number>> {
    const { values } = await relay.metrics.adminLogins.get();
    return Object.fromEntries(values.map((v): [string, number] => [String(v.labels.result), v.value]));
  }

  it('checks 5 wrong passwords of a burst from one address and refuses the rest unchecked; another address still logs in', async () => {
    const relay = await fx.startNode();
    const attacker = '203.0.113.7';
    const burst = Array.from({ length: 40 }, (_, i) => loginFrom(relay, attacker, `wrong ${i}`));
    expect(await outcomes(burst)).toEqual({ 'invalid credentials': 5, [TOO_MANY]: 35 });
    // Only 5 bcrypt checks ran: the metric counts checked logins as invalid or accepted.
    expect(await counted(relay)).toEqual({ invalid: 5, too_many_failures: 35 });
    // Even the right password waits for the window from there; from elsewhere it is let in.
    await expect(loginFrom(relay, attacker, PASSWORD)).rejects.toThrow(TOO_MANY);
    const admin = await loginFrom(relay, '198.51.100.1', PASSWORD);
    admin.socket.close();
    expect(await counted(relay)).toEqual({ invalid: 5, too_many_failures: 36, accepted: 1 });
    // Logged, throttled: one line for the burst.
    expect(
      relay.logs.matching(/Admin UI: refused a login from 203\.0\.113\.7: 5 failed logins within 60 s/),
    ).toHaveLength(1);
    // A session's reconnect checks no password: it is not held back, from any address.
    (await adminLogin(relay.url, { sessionId: admin.session }, { 'X-Forwarded-For': attacker })).socket.close();
  });

  it('checks one password at a time: a burst from many addresses is refused beyond a short queue, and the node stays responsive', async () => {
    // A process of its own: the burst's clients (this test) must not share the relay's event loop.
    const child = fx.spawnNode();
    await waitReady(child);
    // The client waits long enough for any login the node queued to be checked, on a loaded machine
    // too: one it gave up on would still be checked and counted after the scrape below.
    const logins = Array.from({ length: 100 }, (_, i) =>
      adminLogin(child.url, { username: USER, password: 'wrong' }, { 'X-Forwarded-For': `198.18.0.${i + 1}` }, 30_000),
    );
    const results = outcomes(logins);
    // Once the checks are under way, the node answers its readiness probe: unbounded, it answered
    // after every check (0.1 s of CPU each) had run, past this probe's 5 s.
    await Promise.race(logins.map((login) => login.catch(() => undefined)));
    const asked = performance.now();
    expect(await httpStatus(`${child.url}/ready`)).toBe(200);
    const readyMs = performance.now() - asked;
    const settled = await results;
    const { invalid = 0, busy = 0, ...others } = await scraped(child.url);
    expect(others).toEqual({});
    expect(invalid + busy).toBe(100);
    expect(settled).toEqual({ 'invalid credentials': invalid, 'too many logins at once, try again': busy });
    expect(busy).toBeGreaterThan(0);
    expect(readyMs).toBeLessThan(1000);
  });

  (existsSync('/proc/self/task') ? it : it.skip)(
    "checks passwords off the node's event loop: a burst of checks costs its main thread less than two of them",
    async () => {
      // The CPU time of one check (bcryptjs, cost 10), here, where nothing else runs meanwhile.
      const hash = bcrypt.hashSync(PASSWORD, 10);
      const costs = [0, 1, 2].map(() => {
        const before = process.cpuUsage();
        bcrypt.compareSync('wrong', hash);
        const used = process.cpuUsage(before);
        return (used.user + used.system) / 1000;
      });
      const checkMs = costs.sort((a, b) => a - b)[1];
      // The bundled server, in a process of its own: its threads' CPU time is its own.
      const child = fx.spawnNode();
      await waitReady(child);
      const before = { main: cpuMs(child, 'main'), all: cpuMs(child) };
      // 8: one checked at once and 7 waiting, none refused.
      const logins = Array.from({ length: 8 }, (_, i) =>
        adminLogin(child.url, { username: USER, password: `wrong ${i}` }, { 'X-Forwarded-For': `198.19.0.${i + 1}` }),
      );
      await Promise.race(logins.map((login) => login.catch(() => undefined)));
      // Served while the others are checked.
      expect(await httpStatus(`${child.url}/ready`)).toBe(200);
      expect(await outcomes(logins)).toEqual({ 'invalid credentials': 8 });
      const used = { main: cpuMs(child, 'main') - before.main, all: cpuMs(child) - before.all };
      expect(await scraped(child.url)).toEqual({ invalid: 8 });
      // The 8 checks ran (a wide margin: CPU time per check varies with what shares the core)...
      expect(used.all).toBeGreaterThan(4 * checkMs);
      // ...but not on the thread that serves the sockets: there, 8 checks would take 8 times checkMs.
      expect(used.main).toBeLessThan(2 * checkMs);
      // The worker does not hold up a graceful stop.
      child.child.kill('SIGTERM');
      expect(await child.exited).toEqual({ code: 0, signal: null });
    },
  );
});

describe('Admin UI, with a node that never answers', () => {
  const fx = useFixture({ env: ADMIN_ENV });

  it('logs the failed socket listing of a login instead of ending the process', async () => {
    // Subscribed to the adapter's request channel, this client counts as a node and answers nothing,
    // so the cluster-wide fetchSockets the UI makes on login times out (after 5 s).
    const silent = new Redis(fx.redis.url);
    fx.defer(() => void silent.disconnect());
    await silent.subscribe('socket.io-request#/#');
    const relay = fx.relay;
    (await adminLogin(relay.url, { username: USER, password: PASSWORD })).socket.close();
    await waitUntil(
      () => relay.logs.matching(/Admin UI: could not list the sockets/).length === 1,
      10_000,
      'the listing to fail',
    );
    expect(await relay.ready()).toBe(200);
  });
});

describe('Admin UI, disabled (the default)', () => {
  const fx = useFixture({ env: { ECHO_RELAY_ALLOWED_ORIGINS: APP_ORIGIN } });

  it('serves nothing at /admin and has no /admin namespace', async () => {
    const relay = fx.relay;
    for (const path of ['/admin', '/admin/', '/admin/index.html']) {
      expect((await fetch(`${relay.url}${path}`)).status).toBe(404);
    }
    await expect(adminLogin(relay.url, { username: 'admin', password: '' })).rejects.toThrow('Invalid namespace');
  });

  it("accepts the relay's own origin only as the allow-list says", async () => {
    const relay = fx.relay;
    await expect(fx.echoOn('orders', { client: { extraHeaders: { Origin: relay.url } } })).rejects.toThrow();
    await fx.echoOn('orders', { client: { extraHeaders: { Origin: APP_ORIGIN } } });
  });
});

describe('Admin UI in the bundled server process', () => {
  const fx = useFixture({ nodes: 0 });
  let hooks: string;

  beforeAll(() => {
    // Names every bare package the process imports, to show what an enabled or disabled UI loads.
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-imports-'));
    fx.defer(() => rmSync(dir, { recursive: true, force: true }));
    hooks = join(dir, 'report-imports.mjs');
    writeFileSync(
      hooks,
      `import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    if (/^(@socket\\.io\\/admin-ui|bcryptjs)/.test(specifier)) process.stderr.write('imports ' + specifier + '\\n');
    return next(specifier, context);
  },
});
`,
    );
  });

  it('does not load the package or bcrypt when the UI is off', async () => {
    const child = fx.spawnNode({ env: { NODE_OPTIONS: `--import=${hooks}` } });
    await waitListening(child);
    expect((await fetch(`${child.url}/admin/`)).status).toBe(404);
    expect(child.stderr()).toBe('');
  });

  it('loads them when on, and serves the UI and its login from the installed package', async () => {
    const child = fx.spawnNode({ env: { ...ADMIN_ENV, NODE_OPTIONS: `--import=${hooks}` } });
    await waitListening(child);
    expect(child.stderr()).toMatch(/imports @socket\.io\/admin-ui/);
    expect(child.stderr()).toMatch(/imports bcryptjs/);
    const page = await fetch(`${child.url}/admin/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Socket.IO Admin UI</title>');
    const font = await fetch(`${child.url}/admin/mdi/fonts/materialdesignicons-webfont.woff2`);
    expect(font.status).toBe(200);
    expect(font.headers.get('content-type')).toBe('font/woff2');
    (await adminLogin(child.url, { username: USER, password: PASSWORD })).socket.close();
  });

  it('is a config error when enabled without a password: exit 78, naming the key', async () => {
    const child = fx.spawnNode({ env: { ECHO_RELAY_ADMIN_UI_ENABLED: 'true' } });
    const { code } = await child.exited;
    expect(code).toBe(78);
    expect(child.stderr().trim()).toBe(
      'Invalid configuration: adminUi.password (file "adminUi.password", env ECHO_RELAY_ADMIN_UI_PASSWORD): ' +
        'required when adminUi.enabled is true',
    );
    expect(child.stdout()).toBe('');
  });
});

(chromiumMissing() ? describe.skip : describe)('Admin UI in Chromium', () => {
  const fx = useFixture({ env: ADMIN_ENV });
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function login(password: string): Promise<void> {
    await page.getByLabel('Username').fill(USER);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Connect' }).click();
  }

  /** Opens a page of the UI from its menu (a reload would lose the events it collected). */
  async function show(section: 'Sockets' | 'Rooms' | 'Events', namespace?: string): Promise<void> {
    await page.locator('nav').getByText(section, { exact: true }).click();
    await page.waitForURL((url) => url.hash.startsWith(`#/${section.toLowerCase()}`), { waitUntil: 'commit' });
    if (namespace === undefined) return;
    // The page being left may still be in the DOM, fading out, with its own select and menu.
    await page.getByLabel('Select namespace').filter({ visible: true }).click({ force: true });
    await page.getByRole('option', { name: namespace, exact: true }).filter({ visible: true }).click();
  }

  it('refuses a wrong password, then logs in and shows a connected Echo client, its room and a broadcast to it', async () => {
    const relay = fx.relay;
    const echo = await fx.echoOn('orders');
    const socketId = echo.socketId();
    expect(socketId).toBeTruthy();
    const opened = await browser.open(`${relay.url}/admin`);
    page = opened.page;
    expect(page.url()).toBe(`${relay.url}/admin/#/`);
    // The form comes pre-filled with this relay, and a first visit shows no error before a login.
    await expect(page.getByLabel('Server URL').inputValue()).resolves.toBe(relay.url);
    await page.getByRole('button', { name: 'Connect' }).waitFor();
    expect(await page.getByText('Invalid credentials').count()).toBe(0);

    await login('not the password');
    await page.getByText('Invalid credentials').waitFor();
    await login(PASSWORD);
    await page.getByText('connected', { exact: true }).first().waitFor();
    // The menu's icons are drawn: the icon font the page links to loaded from this relay.
    await page.waitForFunction(
      `[...document.fonts].some((f) => f.family.replace(/"/g, '') === 'Material Design Icons' && f.status === 'loaded')`,
      undefined,
      { timeout: 10_000 },
    );

    await show('Sockets', '/');
    await page.getByRole('cell', { name: socketId!, exact: true }).waitFor();
    await show('Rooms', '/');
    await page.getByRole('cell', { name: 'orders', exact: true }).waitFor();

    // A Laravel broadcast from Redis, written by the relay's fast path, shows as sent to the socket.
    await fx.laravel.broadcast(['orders'], 'order.shipped', { id: 42 });
    await show('Events');
    await page.getByText('Event sent').first().waitFor();
    await page.getByText('order.shipped').first().waitFor();
    expect(opened.errors).toEqual([]);
  });
});
