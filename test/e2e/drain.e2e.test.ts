import { describe, expect, it } from '@jest/globals';
import { connected, rawSocket, type ClientVersion } from '../support/echo-client.js';
import { httpStatus } from '../support/http.js';
import { waitUntil } from '../support/ports.js';
import { useFixture } from '../support/fixture.js';
import type { TestRelay } from '../support/relay.js';

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

  /** When each of `count` clients of `relay` lost its connection, after `relay` was stopped. */
  async function disconnectTimes(relay: TestRelay, spreadMs: number, count = 4): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const echo = fx.client({ on: relay, version: 4 });
      echo.channel('orders');
      await connected(echo);
      rawSocket(echo).on('disconnect', () => times.push(Date.now()));
    }
    await relay.stop();
    await waitUntil(() => times.length === count, spreadMs + 2000, 'every client disconnected');
    return times;
  }

  it('spreads the disconnections while another node can take the clients, and closes at once on a lone node', async () => {
    const env = { ECHO_RELAY_SHUTDOWN_DISCONNECT_SPREAD_MS: '2000' };
    const lone = await fx.startNode({ env });
    const loneTimes = await disconnectTimes(lone, 2000);
    expect(Math.max(...loneTimes) - Math.min(...loneTimes)).toBeLessThan(500);
    expect(lone.logs.lines.some((line) => /at once: no other node/.test(line.message))).toBe(true);

    const [a] = [await fx.startNode({ env }), await fx.startNode({ env })];
    // Four batches in four 500 ms slots: the first and the last are at least 500 ms apart.
    const times = await disconnectTimes(a, 2000);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(500);
  });
});
