/**
 * Contract of ./local-room-emitter.ts with ws 8.21.3, engine.io 6.6.12, socket.io 4.8.3 and
 * socket.io-parser 4.2.7: what it reads of them, checked on a real server and real clients. A
 * failure names the library and the member; re-read that library's source before changing the
 * emitter (ws: lib/sender.js, lib/websocket.js; engine.io: build/socket.js,
 * build/transports/websocket.js).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket as NetSocket } from 'node:net';
import { createRequire } from 'node:module';
import { Server, type Socket } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { LocalRoomEmitter } from './local-room-emitter.js';
import { versionMismatch } from './written-against.js';

const require = createRequire(import.meta.url);
/** `ws` as engine.io loads it (CommonJS, with the `Sender` its ESM entry leaves out). */
const ws = createRequire(require.resolve('engine.io'))('ws') as {
  WebSocket: { new (...args: never[]): unknown; OPEN: number };
  Sender: { prototype: { sendFrame: unknown } };
};
const ioV2 = require('socket.io-client-v2') as typeof io;

/** What the emitter reads of a socket's engine.io connection, as seen here. */
interface Connection {
  readyState: unknown;
  writeBuffer: unknown;
  write: unknown;
  transport: {
    name: unknown;
    socket?: {
      readyState: unknown;
      _sender?: { _state: unknown; _queue: unknown; _socket: unknown; sendFrame: (list: Buffer[]) => void };
    };
  };
}

const connection = (socket: Socket): Connection => socket.conn as unknown as Connection;

let http: HttpServer;
let server: Server;
let url: string;
const clients: ClientSocket[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  http = createServer();
  server = new Server(http, { allowEIO3: true });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterEach(async () => {
  // Closed from both ends, and awaited, so no client request outlives the spec.
  const gone = sockets.splice(0).map((socket) => new Promise((resolve) => socket.conn.once('close', resolve)));
  for (const client of clients.splice(0)) client.close();
  await Promise.all(gone);
});

afterAll(async () => {
  await server.close(); // and the HTTP server under it
});

/** Connects a client and returns both ends once the server has seen it. */
async function connectClient(options: { transports: string[]; v2?: boolean }): Promise<[ClientSocket, Socket]> {
  const arrived = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = (options.v2 ? ioV2 : io)(url, { transports: options.transports, forceNew: true });
  clients.push(client);
  const socket = await arrived;
  sockets.push(socket);
  await new Promise<void>((resolve) => (client.connected ? resolve() : client.once('connect', () => resolve())));
  return [client, socket];
}

function received(client: ClientSocket, event: string): Promise<unknown[]> {
  return new Promise((resolve) => client.once(event, (...args: unknown[]) => resolve(args)));
}

describe('versions', () => {
  for (const name of ['ws', 'engine.io', 'socket.io', 'socket.io-parser'] as const) {
    it(`${name} is the version the emitter was written against`, () => {
      expect(versionMismatch(name)).toBeUndefined();
    });
  }
});

describe('socket.io + socket.io-parser', () => {
  it('socket.io: server.encoder.encode of an EVENT packet without binary is one string', () => {
    const encoded = server.encoder.encode({ type: 2, nsp: '/', data: ['order.shipped', 'orders', { id: 1 }] });
    expect(encoded).toEqual(['2["order.shipped","orders",{"id":1}]']);
  });

  it('socket.io: server.encoder.encode of a packet with binary is several parts (the emitter hands those over)', () => {
    const encoded = server.encoder.encode({ type: 2, nsp: '/', data: ['e', Buffer.from([1])] }) as unknown[];
    expect(encoded.length).toBeGreaterThan(1);
  });

  it('socket.io: namespace.adapter.rooms maps a room to a Set of socket ids, namespace.sockets an id to its socket', async () => {
    const [, socket] = await connectClient({ transports: ['websocket'] });
    await socket.join('contract-room');
    expect(server.sockets.adapter.rooms.get('contract-room')).toEqual(new Set([socket.id]));
    expect(server.sockets.sockets.get(socket.id)).toBe(socket);
  });
});

describe.each([
  ['socket.io-client 4 (Engine.IO 4)', false],
  ['socket.io-client 2 (Engine.IO 3)', true],
])('engine.io + ws, WebSocket transport, %s', (_name, v2) => {
  it('engine.io: an idle connection is open, with an empty writeBuffer, on the websocket transport', async () => {
    const [, socket] = await connectClient({ transports: ['websocket'], v2 });
    const conn = connection(socket);
    expect(conn.readyState).toBe('open');
    expect(conn.writeBuffer).toEqual([]);
    expect(conn.transport.name).toBe('websocket');
    expect(typeof conn.write).toBe('function');
  });

  it('engine.io: transport.socket is the ws WebSocket, OPEN === 1', async () => {
    const [, socket] = await connectClient({ transports: ['websocket'], v2 });
    const webSocket = connection(socket).transport.socket;
    expect(webSocket).toBeInstanceOf(ws.WebSocket);
    expect(ws.WebSocket.OPEN).toBe(1);
    expect(webSocket?.readyState).toBe(1);
  });

  it('ws: WebSocket#_sender has _state 0 when idle, an empty _queue, the net.Socket as _socket (writableLength), and sendFrame', async () => {
    const [, socket] = await connectClient({ transports: ['websocket'], v2 });
    const sender = connection(socket).transport.socket?._sender;
    expect(sender).toBeDefined();
    expect(sender?._state).toBe(0);
    expect(sender?._queue).toEqual([]);
    expect(sender?._socket).toBeInstanceOf(NetSocket);
    expect((sender?._socket as NetSocket).writableLength).toBe(0);
    expect(typeof ws.Sender.prototype.sendFrame).toBe('function');
    expect(sender?.sendFrame).toBe(ws.Sender.prototype.sendFrame);
  });

  it('ws: sendFrame writes a one-buffer frame list as is, and the client decodes the event', async () => {
    const [client, socket] = await connectClient({ transports: ['websocket'], v2 });
    await socket.join('orders');
    const sender = connection(socket).transport.socket?._sender;
    const frames: Buffer[][] = [];
    const original = sender!.sendFrame;
    sender!.sendFrame = function (this: unknown, list: Buffer[]) {
      frames.push(list);
      return original.call(this, list);
    };
    try {
      const arrived = received(client, 'order.shipped');
      expect(new LocalRoomEmitter(server).emit('orders', undefined, 'order.shipped', 'orders', { id: 7 })).toBe(1);
      expect(await arrived).toEqual(['orders', { id: 7 }]);
      expect(frames).toHaveLength(1);
      expect(frames[0]).toHaveLength(1);
    } finally {
      delete (sender as { sendFrame?: unknown }).sendFrame;
    }
  });
});

describe('engine.io, polling transport', () => {
  it('engine.io: conn.write(packet, {preEncoded, wsPreEncodedFrame}) delivers to a long-polling client', async () => {
    const [client, socket] = await connectClient({ transports: ['polling'] });
    expect(connection(socket).transport.name).toBe('polling');
    expect(connection(socket).transport.socket).toBeUndefined();
    await socket.join('orders');
    const arrived = received(client, 'order.shipped');
    expect(new LocalRoomEmitter(server).emit('orders', undefined, 'order.shipped', 'orders', { id: 8 })).toBe(1);
    expect(await arrived).toEqual(['orders', { id: 8 }]);
  });
});
