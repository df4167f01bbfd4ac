import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import type WebSocketType from 'ws';
import { connected } from '../support/echo-client.js';
import { waitUntil } from '../support/ports.js';
import {
  keys,
  metric,
  offline,
  recordAll,
  recoverySuite,
  waitForBroadcasts,
  RECONNECTING,
  RECOVERY_KEYS,
  sessionKey,
} from '../support/recovery.js';

const WebSocket = createRequire(import.meta.url)('ws') as typeof WebSocketType;

/** The default `limits.maxRecoveryBytesPerIp`. */
const BUDGET = 64 * 1024 * 1024;
const WINDOW_MS = 120_000;
const CHANNELS = 1_000;
/** Drops of a 1,000-channel socket, about 412 KB of session each: 74 MB, over the budget. */
const DROPS = 180;
const ATTACKER = '203.0.113.7';

/** 1,000 channel names of 200 characters, the longest a socket may hold. */
const NAMES = Array.from({ length: CHANNELS }, (_, i) => `c${i}-`.padEnd(200, 'x'));

/**
 * Connects as `address` (X-Forwarded-For from a trusted proxy), subscribes to `NAMES`, waits until
 * its session in Redis names all of them, and kills the TCP connection without a close.
 */
async function connectSubscribeAndKill(
  url: string,
  address: string,
  session: (pid: string) => Promise<string | null>,
): Promise<void> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, {
    headers: { 'X-Forwarded-For': address },
  });
  const pid = await new Promise<string>((resolve, reject) => {
    ws.on('error', reject);
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('0')) ws.send('40');
      else if (text.startsWith('40')) resolve((JSON.parse(text.slice(2)) as { pid: string }).pid);
    });
  });
  for (const channel of NAMES) ws.send(`42${JSON.stringify(['subscribe', { channel, auth: { headers: {} } }])}`);
  await waitUntil(
    async () =>
      ((JSON.parse((await session(pid))?.split('\n')[1] ?? '{}') as { channels?: string[] }).channels?.length ?? 0) ===
      CHANNELS,
    10_000,
    'the session to name every channel',
  );
  ws.on('error', () => undefined);
  (ws as unknown as { _socket: { destroy(): void } })._socket.destroy();
}

describe('recovery sessions kept per client address (limits.maxRecoveryBytesPerIp)', () => {
  const suite = recoverySuite({ ECHO_RELAY_TRUSTED_PROXIES: '127.0.0.1' });
  const { fx } = suite;

  it('keeps at most 64 MiB of sessions for one address that drops 1,000-channel connections in a loop; other addresses still recover', async () => {
    const redis = fx.laravel.redis;
    const session = (pid: string): Promise<string | null> => redis.get(sessionKey(pid));
    for (let i = 0; i < DROPS; i += 4) {
      await Promise.all([0, 1, 2, 3].map(() => connectSubscribeAndKill(fx.relay.url, ATTACKER, session)));
    }
    // Every drop handled: a session still in Redis has had its disconnect write (TTL the window,
    // not the window and a refresh it had while connected); one not kept is gone.
    const sessions = async (): Promise<string[]> =>
      (await keys(redis, RECOVERY_KEYS)).filter((key) => key.includes(':session:'));
    const open = (): Promise<number> => metric(fx.relay.apiUrl, 'echo_relay_connections');
    await waitUntil(async () => (await open()) === 0, 10_000, 'every connection to be gone');
    await waitUntil(
      async () => {
        for (const key of await sessions()) if ((await redis.pttl(key)) > WINDOW_MS) return false;
        return true;
      },
      10_000,
      'every disconnect write',
    );
    let bytes = 0;
    for (const key of await sessions()) bytes += await redis.strlen(key);
    expect(bytes).toBeLessThanOrEqual(BUDGET);
    // Within a session of the budget: it refuses only the session that would go over it.
    expect(bytes).toBeGreaterThan(BUDGET - 1_000_000);
    const kept = (await sessions()).length;
    expect(await metric(fx.relay.apiUrl, 'echo_relay_recovery_sessions_not_kept_total')).toBe(DROPS - kept);

    // Another client behind the same proxy, from another address, recovers what it missed.
    const echo = fx.client({
      on: suite.proxy().url,
      client: { ...RECONNECTING, extraHeaders: { 'X-Forwarded-For': '198.51.100.9' } },
    });
    const got = recordAll(echo);
    echo.channel('orders');
    await connected(echo);
    await fx.relay.waitForSubscribers('orders', 1);
    const back = await offline(echo, suite.proxy(), async () => {
      await waitUntil(async () => (await open()) === 0, 5000, 'the drop');
      await suite.tick('orders', 'missed');
    });
    expect(back.recovered).toBe(true);
    await waitForBroadcasts(got, 'orders', 'tick', 1);
  });
});
