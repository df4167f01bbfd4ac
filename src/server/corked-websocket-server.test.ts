/**
 * `CorkedWebSocketServer` as engine.io's `wsEngine`, on real socket.io servers and raw WebSocket
 * clients: the 101 and the open packet leave in one write (with ws as it comes, in two), and a
 * refusal of ws's own still reaches the client before the socket closes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket as NetSocket } from 'node:net';
import { Server, type ServerOptions } from 'socket.io';
import { WebSocket } from 'ws';
import { recordWrites } from '../../test/support/socket-writes.js';
import { CorkedWebSocketServer } from './corked-websocket-server.js';

interface Watched {
  port: number;
  /** What the server wrote on each upgraded connection, one entry per write, by request URL. */
  writes: Map<string, string[]>;
  close(): Promise<void>;
}

/** A socket.io server whose upgraded sockets are watched from before engine.io sees them. */
async function watchedServer(options: Partial<ServerOptions>): Promise<Watched> {
  const http: HttpServer = createServer();
  const writes = new Map<string, string[]>();
  http.prependListener('upgrade', (req: IncomingMessage, socket: NetSocket) => {
    const seen: string[] = [];
    writes.set(req.url ?? '', seen);
    recordWrites(socket, seen);
  });
  const server = new Server(http, { pingInterval: 600_000, pingTimeout: 600_000, ...options });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { port: (http.address() as AddressInfo).port, writes, close: () => server.close() };
}

/** Opens an Engine.IO 4 WebSocket and returns what the server wrote until its first message. */
async function firstWrites(server: Watched, path: string): Promise<string[]> {
  const client = new WebSocket(`ws://127.0.0.1:${server.port}${path}`);
  try {
    const first = await new Promise<string>((resolve, reject) => {
      client.once('message', (data: Buffer) => resolve(data.toString()));
      client.once('error', reject);
    });
    expect(first).toMatch(/^0\{"sid":"/);
    return server.writes.get(path) ?? [];
  } finally {
    client.terminate();
  }
}

let corked: Watched;
let plain: Watched;

beforeAll(async () => {
  corked = await watchedServer({ wsEngine: CorkedWebSocketServer });
  plain = await watchedServer({});
});

afterAll(async () => {
  await Promise.all([corked.close(), plain.close()]);
});

describe("CorkedWebSocketServer as engine.io's wsEngine", () => {
  const path = '/socket.io/?EIO=4&transport=websocket';
  const OPEN_AFTER_101 = /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\n[^]{2,4}0\{"sid":"/;

  it('sends the 101 and the open packet in one write', async () => {
    const writes = await firstWrites(corked, path);
    expect(writes[0]).toMatch(OPEN_AFTER_101);
  });

  it('where ws as it comes sends them in two', async () => {
    const writes = await firstWrites(plain, path);
    expect(writes[0]).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\n$/);
    expect(writes[1]).toMatch(/^[^]{2,4}0\{"sid":"/);
  });

  it("still answers ws's own refusal (a bad Sec-WebSocket-Key) before closing", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(corked.port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write(
        [
          'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1',
          'Host: 127.0.0.1',
          'Connection: Upgrade',
          'Upgrade: websocket',
          'Sec-WebSocket-Version: 13',
          'Sec-WebSocket-Key: not-a-key',
          '',
          '',
        ].join('\r\n'),
      );
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });
});
