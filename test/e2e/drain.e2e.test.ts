import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { connected, createEcho, rawSocket } from '../support/echo-client.js';
import { httpStatus } from '../support/http.js';
import { waitUntil } from '../support/ports.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startReadyRelay } from '../support/relay.js';

describe('graceful drain', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('fails readiness first, keeps serving through the grace period, then closes transports so clients reconnect', async () => {
    const relay = await startReadyRelay({
      env: {
        REDIS_URL: redis.url,
        ECHO_RELAY_SHUTDOWN_GRACE_MS: '800',
        ECHO_RELAY_SHUTDOWN_DISCONNECT_SPREAD_MS: '400',
      },
    });
    const clients = [createEcho(relay.url, 4), createEcho(relay.url, 2), createEcho(relay.url, 4)];
    const reasons: string[] = [];
    for (const echo of clients) {
      echo.channel('orders');
      await connected(echo);
      rawSocket(echo).on('disconnect', (reason) => reasons.push(String(reason)));
    }
    const stopped = relay.stop();
    await waitUntil(async () => (await relay.ready()) === 503, 500, 'readiness to fail at once');
    assert.equal(await httpStatus(`${relay.url}/health`), 200, 'still serving during the grace period');
    assert.equal(reasons.length, 0, 'no client is dropped during the grace period');
    await stopped;
    await waitUntil(() => reasons.length === 3, 2000, 'every client to be disconnected');
    assert.deepEqual(
      reasons,
      ['transport close', 'transport close', 'transport close'],
      'a reason clients reconnect on',
    );
  });
});
