import { beforeAll, describe, expect, it } from '@jest/globals';
import { connected } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { rawExchange } from '../support/http.js';
import { PUSHER_APP, PUSHER_CLIENTS_ENV, pusherConnected, createPusherEcho } from '../support/pusher-client.js';
import type { TestRelay } from '../support/relay.js';

/** What `curl --http2 http://…` sends: an h2c upgrade, which a server may ignore. */
const H2C = ['Connection: Upgrade, HTTP2-Settings', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA'];
const FOO = ['Connection: Upgrade', 'Upgrade: foo'];

const statusLine = (answer: string): string => answer.split('\r\n')[0];

describe('requests carrying an Upgrade header that is not a WebSocket upgrade', () => {
  const fx = useFixture({ env: { ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV } });
  let relay: TestRelay;

  beforeAll(() => {
    relay = fx.relay;
  });

  const get = (path: string, headers: string[]): Promise<string> =>
    rawExchange(relay.port, [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers]);

  it('are answered like requests without it, on every route', async () => {
    for (const headers of [H2C, FOO, ['Connection: Upgrade', 'Upgrade: WebSocket-ish']]) {
      expect(statusLine(await get('/health', headers))).toBe('HTTP/1.1 200 OK');
      expect(statusLine(await get('/ready', headers))).toBe('HTTP/1.1 200 OK');
      const api = await get(`/apps/${PUSHER_APP.appId}/status?auth_key=${PUSHER_APP.key}`, headers);
      expect(statusLine(api)).toBe('HTTP/1.1 200 OK');
      expect(statusLine(await get('/nowhere', headers))).toBe('HTTP/1.1 404 Not Found');
    }
  });

  it("reach socket.io's long-polling transport", async () => {
    const answer = await get('/socket.io/?EIO=4&transport=polling', H2C);
    expect(statusLine(answer)).toBe('HTTP/1.1 200 OK');
    expect(answer).toMatch(/\r\n\r\n0\{"sid":"/);
  });

  it('leave WebSocket upgrades to socket.io and the Pusher endpoint, in any case of the header', async () => {
    const echo = fx.client({ client: { transports: ['websocket'] } });
    await connected(echo);
    const pusher = createPusherEcho(relay.port, { broadcaster: 'reverb' });
    try {
      await pusherConnected(pusher);
    } finally {
      pusher.disconnect();
    }
    const upgrade = await rawExchange(relay.port, [
      `GET /app/${PUSHER_APP.key}?protocol=7 HTTP/1.1`,
      'Host: 127.0.0.1',
      'Connection: Upgrade',
      'Upgrade: WebSocket',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ]);
    expect(statusLine(upgrade)).toBe('HTTP/1.1 101 Switching Protocols');
  });

  it('still refuse a WebSocket upgrade to a path nobody serves', async () => {
    const answer = await rawExchange(relay.port, [
      'GET /nowhere HTTP/1.1',
      'Host: 127.0.0.1',
      'Connection: Upgrade',
      'Upgrade: websocket',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ]);
    expect(answer).toBe('');
  });
});
