import { describe, expect, it } from '@jest/globals';
import type { WebSocket } from 'ws';
import { PusherConnection } from './pusher-connection.js';

/** A connection on a fake open WebSocket that records what is written, and whether it was cut. */
function connection(maxBufferedBytes = 1 << 20): { conn: PusherConnection; sent: string[]; cut: () => boolean } {
  const sent: string[] = [];
  let terminated = false;
  const ws = {
    readyState: 1,
    bufferedAmount: 0,
    send: (frame: string) => sent.push(frame),
    terminate: () => (terminated = true),
  } as unknown as WebSocket;
  const app = { appId: 'a', key: 'k', secret: 's' };
  const conn = new PusherConnection('1.2', app, ws, () => fail('no io'), maxBufferedBytes);
  return { conn, sent, cut: () => terminated };
}

function fail(message: string): never {
  throw new Error(message);
}

describe('PusherConnection holding a channel for its cached event', () => {
  it('sends the cached event first, then what arrived meanwhile, and other channels at once', () => {
    const { conn, sent } = connection();
    const held = conn.hold('cache-a');
    conn.sendOn('cache-a', 'live-2');
    conn.sendOn('other', 'other-1');
    conn.sendOn('cache-a', 'live-3');
    expect(sent).toEqual(['other-1']);
    conn.release('cache-a', held, 'cached-1');
    conn.sendOn('cache-a', 'live-4');
    expect(sent).toEqual(['other-1', 'cached-1', 'live-2', 'live-3', 'live-4']);
  });

  it('leaves the cached event out when it arrived live meanwhile (cached after the read began)', () => {
    const { conn, sent } = connection();
    const held = conn.hold('cache-a');
    conn.sendOn('cache-a', 'event-2');
    conn.release('cache-a', held, 'event-2');
    expect(sent).toEqual(['event-2']);
  });

  it('sends nothing held once the channel was dropped, nor for a hold a newer subscribe replaced', () => {
    const { conn, sent } = connection();
    const first = conn.hold('cache-a');
    conn.sendOn('cache-a', 'before-unsubscribe');
    conn.drop('cache-a');
    conn.release('cache-a', first, 'cached');
    expect(sent).toEqual([]);
    const second = conn.hold('cache-a');
    const third = conn.hold('cache-a');
    conn.release('cache-a', second, 'stale');
    conn.sendOn('cache-a', 'live');
    conn.release('cache-a', third, 'cached');
    expect(sent).toEqual(['cached', 'live']);
  });

  it('counts held frames against the slow-consumer limit', () => {
    const { conn, cut } = connection(10);
    conn.hold('cache-a');
    conn.sendOn('cache-a', '12345');
    expect(cut()).toBe(false);
    conn.sendOn('cache-a', '123456');
    expect(cut()).toBe(true);
  });
});
