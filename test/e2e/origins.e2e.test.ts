import { beforeAll, describe, expect, it } from '@jest/globals';
import { CLIENT_VERSIONS, connected, createEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import type { TestRelay } from '../support/relay.js';

const ALLOWED = 'https://shop.example';

describe('origin allow-list on the socket handshake', () => {
  const fx = useFixture({ env: { ECHO_RELAY_ALLOWED_ORIGINS: `${ALLOWED}, https://admin.example` } });
  let relay: TestRelay;

  beforeAll(() => {
    relay = fx.relay;
  });

  async function attempt(version: 2 | 4, transport: string, origin?: string): Promise<'connected' | 'refused'> {
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

  for (const version of CLIENT_VERSIONS) {
    for (const transport of ['websocket', 'polling']) {
      it(`socket.io-client ${version} over ${transport}: allowed origin connects, others are refused`, async () => {
        expect(await attempt(version, transport, ALLOWED)).toBe('connected');
        expect(await attempt(version, transport, 'https://evil.example')).toBe('refused');
        expect(await attempt(version, transport, 'https://shop.example.evil.example')).toBe('refused');
        // clients without Origin are not browsers
        expect(await attempt(version, transport)).toBe('connected');
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

  it('serves the socket.io client script like the old server', async () => {
    const res = await fetch(`${relay.url}/socket.io/socket.io.js`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/Socket\.IO v4/);
  });
});
