import { beforeAll, describe, expect, it } from '@jest/globals';
import { CLIENT_VERSIONS, connected, createEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { startReadyRelay, type TestRelay } from '../support/relay.js';

const ALLOWED = 'https://shop.example';

/** Whether an Echo client of `version` sending `origin` (none: no header) gets a socket over `transport`. */
async function attempt(
  relay: TestRelay,
  version: 2 | 4,
  transport: string,
  origin?: string,
): Promise<'connected' | 'refused'> {
  const echo = createEcho(relay.url, version, {
    transports: [transport],
    extraHeaders: origin ? { Origin: origin } : {},
  });
  try {
    await connected(echo);
    return 'connected';
  } catch {
    return 'refused';
  } finally {
    echo.disconnect();
  }
}

describe('origin allow-list on the socket handshake', () => {
  const fx = useFixture({ env: { ECHO_RELAY_ALLOWED_ORIGINS: `${ALLOWED}, https://admin.example` } });
  let relay: TestRelay;

  beforeAll(() => {
    relay = fx.relay;
  });

  for (const version of CLIENT_VERSIONS) {
    for (const transport of ['websocket', 'polling']) {
      it(`socket.io-client ${version} over ${transport}: allowed origin connects, others are refused`, async () => {
        expect(await attempt(relay, version, transport, ALLOWED)).toBe('connected');
        expect(await attempt(relay, version, transport, 'https://evil.example')).toBe('refused');
        expect(await attempt(relay, version, transport, 'https://shop.example.evil.example')).toBe('refused');
        // clients without Origin are not browsers
        expect(await attempt(relay, version, transport)).toBe('connected');
      });
    }
  }

  it('answers polling CORS with the allowed origin and credentials', async () => {
    const res = await fetch(`${relay.url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: ALLOWED } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    const refused = await fetch(`${relay.url}/socket.io/?EIO=4&transport=polling`, {
      headers: { Origin: 'https://evil.example' },
    });
    expect(refused.status).toBe(403);
  });

  it('answers a WebSocket upgrade from an allowed origin without CORS headers (browsers ignore them there)', async () => {
    const url = new URL('/socket.io/?EIO=4&transport=websocket', relay.url);
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = request(url, {
        headers: {
          Origin: ALLOWED,
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        },
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(res.headers);
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    expect(headers['sec-websocket-accept']).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(Object.keys(headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('serves the socket.io client script like the old server', async () => {
    const res = await fetch(`${relay.url}/socket.io/socket.io.js`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/Socket\.IO v4/);
  });
});

describe('origins compared as browsers send them', () => {
  const fx = useFixture({ nodes: 0 });

  it('allowedOrigins spelled with a default port, upper case or a trailing slash match the browser spelling', async () => {
    const relay = await fx.startNode({
      env: { ECHO_RELAY_ALLOWED_ORIGINS: 'http://good.test:80, https://App.Test/' },
    });
    for (const transport of ['websocket', 'polling']) {
      expect(await attempt(relay, 4, transport, 'http://good.test')).toBe('connected');
      expect(await attempt(relay, 4, transport, 'https://app.test')).toBe('connected');
      expect(await attempt(relay, 4, transport, 'https://good.test')).toBe('refused');
      expect(await attempt(relay, 4, transport, 'http://app.test')).toBe('refused');
    }
    const res = await fetch(`${relay.url}/socket.io/?EIO=4&transport=polling`, {
      headers: { Origin: 'https://app.test' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.test');
  });
});

describe("the old file's socketio.origins (socket.io 2 syntax)", () => {
  const fx = useFixture({ nodes: 0 });

  /** A relay started from a laravel-echo-server.json holding `socketio`. */
  async function relayWithFile(file: Record<string, unknown>): Promise<TestRelay> {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-origins-'));
    const path = join(dir, 'laravel-echo-server.json');
    writeFileSync(path, JSON.stringify(file));
    const relay = await startReadyRelay({ env: fx.env, file: path });
    fx.defer(() => relay.stop());
    fx.defer(() => rmSync(dir, { recursive: true, force: true }));
    return relay;
  }

  it('a string of host:port entries becomes the allow-list, said so at startup, on both transports and clients', async () => {
    const relay = await relayWithFile({ socketio: { origins: 'app.example.com:443 admin.example.com:8080' } });
    expect(relay.logs.lines).toContainEqual({
      level: 'log',
      message:
        'Using socketio.origins from laravel-echo-server.json as the socket origin allow-list: app.example.com:443 admin.example.com:8080',
    });
    expect(relay.logs.lines.some((line) => /No allowedOrigins configured/.test(line.message))).toBe(false);
    for (const version of CLIENT_VERSIONS) {
      for (const transport of ['websocket', 'polling']) {
        expect(await attempt(relay, version, transport, 'https://app.example.com')).toBe('connected');
        expect(await attempt(relay, version, transport, 'http://admin.example.com:8080')).toBe('connected');
        expect(await attempt(relay, version, transport, 'https://evil.example')).toBe('refused');
        expect(await attempt(relay, version, transport, 'http://app.example.com')).toBe('refused');
      }
    }
  });

  it('an array with *:port and host:* entries', async () => {
    const relay = await relayWithFile({ socketio: { origins: ['*:8443', 'shop.test:*'] } });
    expect(await attempt(relay, 4, 'websocket', 'https://anyone.test:8443')).toBe('connected');
    expect(await attempt(relay, 4, 'polling', 'http://shop.test:3000')).toBe('connected');
    expect(await attempt(relay, 4, 'polling', 'https://anyone.test')).toBe('refused');
    expect(await attempt(relay, 4, 'websocket', 'https://anyone.test')).toBe('refused');
  });

  it('*:* allows any origin; allowedOrigins, when set, wins over socketio.origins', async () => {
    const open = await relayWithFile({ socketio: { origins: '*:*' } });
    expect(await attempt(open, 4, 'websocket', 'https://anyone.test')).toBe('connected');
    const both = await relayWithFile({ allowedOrigins: ['https://shop.test'], socketio: { origins: '*:*' } });
    expect(await attempt(both, 4, 'websocket', 'https://shop.test')).toBe('connected');
    expect(await attempt(both, 4, 'websocket', 'https://anyone.test')).toBe('refused');
    expect(both.logs.lines.some((line) => /socketio\.origins/.test(line.message))).toBe(false);
  });
});
