import { describe, expect, it } from '@jest/globals';
import { connected, rawSocket, type ClientVersion } from '../support/echo-client.js';
import { httpStatus } from '../support/http.js';
import { waitUntil } from '../support/ports.js';
import { useFixture } from '../support/fixture.js';

describe('graceful drain', () => {
  const fx = useFixture({ nodes: 0 });

  it('fails readiness first, keeps serving through the grace period, then closes transports so clients reconnect', async () => {
    const relay = await fx.startNode({
      env: {
        ECHO_RELAY_SHUTDOWN_GRACE_MS: '800',
        ECHO_RELAY_SHUTDOWN_DISCONNECT_SPREAD_MS: '400',
      },
    });
    const clients = [4, 2, 4].map((version) => fx.client({ on: relay, version: version as ClientVersion }));
    const reasons: string[] = [];
    for (const echo of clients) {
      echo.channel('orders');
      await connected(echo);
      rawSocket(echo).on('disconnect', (reason) => reasons.push(String(reason)));
    }
    const stopped = relay.stop();
    await waitUntil(async () => (await relay.ready()) === 503, 500, 'readiness to fail at once');
    // still serving during the grace period
    expect(await httpStatus(`${relay.url}/health`)).toBe(200);
    // no client is dropped during the grace period
    expect(reasons.length).toBe(0);
    await stopped;
    await waitUntil(() => reasons.length === 3, 2000, 'every client to be disconnected');
    // a reason clients reconnect on
    expect(reasons).toEqual(['transport close', 'transport close', 'transport close']);
  });
});
