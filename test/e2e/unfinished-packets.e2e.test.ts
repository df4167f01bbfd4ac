/**
 * A socket.io packet's binary attachments arrive one engine.io message each after its header, and
 * socket.io holds them until the last has come: together they may be no larger than one packet
 * (`maxHttpBufferSize`, 1 MB here), or the connection is closed at once and counted. Before, a
 * client announcing ten attachments and sending nine held about 10 MB of the node for as long as
 * it stayed connected.
 */
import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { withTimeout } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import type { TestRelay } from '../support/relay.js';

const require = createRequire(import.meta.url);
/** `ws`, as engine.io loads it (the one the relay's own WebSockets are). */
const EngineWebSocket = createRequire(require.resolve('engine.io'))('ws') as typeof WebSocket;

const fx = useFixture();

/** 900 KB: each attachment alone is within one packet's 1 MB. */
const ATTACHMENT = Buffer.alloc(900 * 1024, 7);

/** A binary engine.io message: EIO3 frames start with the packet type (4, message), EIO4 frames are the data. */
function binaryMessage(eio: 3 | 4, data: Buffer): Buffer {
  return eio === 3 ? Buffer.concat([Buffer.from([4]), data]) : data;
}

async function oversized(relay: TestRelay, protocol: string): Promise<number> {
  return (
    (await relay.metrics.oversizedDisconnects.get()).values.find((v) => v.labels.protocol === protocol)?.value ?? 0
  );
}

/** A raw engine.io WebSocket connected to the main namespace; EIO3 connects to it by itself. */
async function rawClient(relay: TestRelay, eio: 3 | 4): Promise<WebSocket> {
  const ws = new EngineWebSocket(`${relay.url.replace('http', 'ws')}/socket.io/?EIO=${eio}&transport=websocket`);
  fx.defer(() => ws.terminate());
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        if (text.startsWith('0') && eio === 4) ws.send('40');
        if (text.startsWith('40')) resolve();
      });
      ws.once('error', reject);
    }),
    5000,
    'connected',
  );
  return ws;
}

/** The header of a socket.io BINARY_EVENT with `count` attachments (engine.io message `4`, socket.io `5`). */
function binaryHeader(count: number): string {
  const placeholders = Array.from({ length: count }, (_, num) => ({ _placeholder: true, num }));
  return `45${count}-${JSON.stringify(['client-upload', ...placeholders])}`;
}

function closed(ws: WebSocket, timeoutMs: number): Promise<boolean> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('binary attachments of one packet', () => {
  for (const eio of [4, 3] as const) {
    it(`EIO${eio}: announcing ten and sending nine of 900 KB closes the connection once they pass 1 MB, counted`, async () => {
      const relay = fx.relay;
      const before = await oversized(relay, `eio${eio}`);
      const ws = await rawClient(relay, eio);
      ws.send(binaryHeader(10));
      for (let i = 0; i < 9 && ws.readyState === WebSocket.OPEN; i++) ws.send(binaryMessage(eio, ATTACHMENT));
      expect(await closed(ws, 5000)).toBe(true);
      expect(await oversized(relay, `eio${eio}`)).toBe(before + 1);
      expect(
        relay.logs.matching(
          new RegExp(
            `packet's binary attachments reached \\d+ bytes.*eio${eio}|eio${eio}.*packet's binary attachments`,
          ),
        ),
      ).not.toHaveLength(0);
    });
  }

  it('packets whose attachments each stay within one packet, together, keep the connection', async () => {
    const relay = fx.relay;
    const before = await oversized(relay, 'eio4');
    const ws = await rawClient(relay, 4);
    const half = ATTACHMENT.subarray(0, 400 * 1024);
    // 800 KB in one packet, twice: 1.6 MB from one client, never more than a packet's worth pending.
    for (const channel of ['first', 'second']) {
      ws.send(binaryHeader(2));
      ws.send(half);
      ws.send(half);
      ws.send(`42${JSON.stringify(['subscribe', { channel }])}`);
      await relay.waitForSubscribers(channel, 1);
    }
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(await oversized(relay, 'eio4')).toBe(before);
  });
});
