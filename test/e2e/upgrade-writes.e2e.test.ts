/**
 * The answer to a WebSocket upgrade leaves in one write: the `101 Switching Protocols` response
 * together with engine.io's open packet (socket.io) or `connection_established` (the Pusher
 * endpoint). Written one at a time, each was a system call of its own, on every connect of a
 * reconnect storm. Counted at the server's end of the TCP connection (`recordWrites`).
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { withTimeout } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { recordWrites } from '../support/socket-writes.js';
import { PUSHER_APP, PUSHER_CLIENTS_ENV } from '../support/pusher-client.js';
import type { TestRelay } from '../support/relay.js';

describe('the answer to a WebSocket upgrade', () => {
  const fx = useFixture({ env: { ECHO_RELAY_CLIENTS: PUSHER_CLIENTS_ENV } });
  let relay: TestRelay;
  /** What the server wrote on each upgraded connection, one entry per write, by request URL. */
  const writes = new Map<string, string[]>();

  beforeAll(() => {
    relay = fx.relay;
    const http = relay.app.getHttpServer() as HttpServer;
    // Ahead of every listener of the server, so the socket is watched before anything is written.
    const watch = (req: IncomingMessage, socket: Socket): void => {
      const seen: string[] = [];
      writes.set(req.url ?? '', seen);
      recordWrites(socket, seen);
    };
    http.prependListener('upgrade', watch);
    fx.defer(() => {
      http.off('upgrade', watch);
    });
  });

  /** Opens a WebSocket at `path` and resolves with its first message, without answering it. */
  async function firstMessage(path: string): Promise<string> {
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}${path}`);
    fx.defer(() => ws.terminate());
    return withTimeout(
      new Promise<string>((resolve, reject) => {
        ws.once('message', (data: Buffer) => resolve(data.toString()));
        ws.once('error', reject);
      }),
      5000,
      `first message on ${path}`,
    );
  }

  it.each([4, 3])('leaves with the open packet in one write (Engine.IO %i)', async (eio) => {
    const path = `/socket.io/?EIO=${eio}&transport=websocket&probe=${eio}`;
    expect(await firstMessage(path)).toMatch(/^0\{"sid":"/);
    const seen = writes.get(path)!;
    expect(seen[0]).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\n[^]{2,4}0\{"sid":"/);
  });

  it("leaves with the Pusher endpoint's connection_established in one write", async () => {
    const path = `/app/${PUSHER_APP.key}?protocol=7&client=js&version=8.4.0`;
    expect(JSON.parse(await firstMessage(path))).toMatchObject({ event: 'pusher:connection_established' });
    const seen = writes.get(path)!;
    expect(seen[0]).toMatch(
      /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\n[^]{2,4}\{"event":"pusher:connection_established"/,
    );
  });
});
