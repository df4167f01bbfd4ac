/**
 * Contract of ./local-room-emitter.ts with ws 8.21.3, engine.io 6.6.12, socket.io 4.8.3 and
 * socket.io-parser 4.2.7: what it reads of them, checked on a real server and real clients. A
 * failure names the library and the member; re-read that library's source before changing the
 * emitter (ws: lib/sender.js, lib/websocket.js; engine.io: build/socket.js,
 * build/transports/websocket.js).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
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
  protocol: unknown;
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

  it(`engine.io: conn.protocol is ${v2 ? 3 : 4}`, async () => {
    const [, socket] = await connectClient({ transports: ['websocket'], v2 });
    expect(connection(socket).protocol).toBe(v2 ? 3 : 4);
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
      expect(new LocalRoomEmitter(server).emit('orders', undefined, 'order.shipped', ['orders', { id: 7 }])).toBe(1);
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
    expect(new LocalRoomEmitter(server).emit('orders', undefined, 'order.shipped', ['orders', { id: 8 }])).toBe(1);
    expect(await arrived).toEqual(['orders', { id: 8 }]);
  });
});

describe('recovery offsets', () => {
  const offset = '1764519000123-0';

  /** The named events a client receives, in order, with their arguments (socket.io-client 2 has no `onAny`). */
  function recorded(client: ClientSocket, names: string[]): [string, ...unknown[]][] {
    const events: [string, ...unknown[]][] = [];
    for (const name of names) client.on(name, (...args: unknown[]) => events.push([name, ...args]));
    return events;
  }

  /** Counts the encoder's calls while `run` runs. */
  function encodes(run: () => void): number {
    const spy = jest.spyOn(server.encoder, 'encode');
    try {
      run();
      return spy.mock.calls.length;
    } finally {
      spy.mockRestore();
    }
  }

  it('socket.io-client 4 receives the offset as the last argument, encoded once', async () => {
    const [client, socket] = await connectClient({ transports: ['websocket'] });
    await socket.join('orders');
    const arrived = received(client, 'order.shipped');
    expect(
      encodes(() =>
        new LocalRoomEmitter(server).emit('orders', undefined, 'order.shipped', ['orders', { id: 1 }], offset),
      ),
    ).toBe(1);
    expect(await arrived).toEqual(['orders', { id: 1 }, offset]);
  });

  it('socket.io-client 2 receives the broadcast without the offset', async () => {
    const [client, socket] = await connectClient({ transports: ['websocket'], v2: true });
    await socket.join('orders');
    const arrived = received(client, 'order.shipped');
    expect(new LocalRoomEmitter(server).emit('orders', undefined, 'order.shipped', ['orders', { id: 2 }], offset)).toBe(
      1,
    );
    expect(await arrived).toEqual(['orders', { id: 2 }]);
  });

  it('a mixed room: Engine.IO 4 sockets get the offset, Engine.IO 3 ones not, each variant encoded once', async () => {
    const ends = [
      await connectClient({ transports: ['websocket'] }),
      await connectClient({ transports: ['polling'] }),
      await connectClient({ transports: ['websocket'], v2: true }),
      await connectClient({ transports: ['polling'], v2: true }),
    ];
    for (const [, socket] of ends) await socket.join('orders');
    const arrived = ends.map(([client]) => received(client, 'order.shipped'));
    const emitter = new LocalRoomEmitter(server);
    let recipients = 0;
    const calls = encodes(() => {
      recipients = emitter.emit('orders', undefined, 'order.shipped', ['orders', { id: 3 }], offset);
    });
    expect(recipients).toBe(4);
    expect(calls).toBe(2);
    expect(await Promise.all(arrived)).toEqual([
      ['orders', { id: 3 }, offset],
      ['orders', { id: 3 }, offset],
      ['orders', { id: 3 }],
      ['orders', { id: 3 }],
    ]);
  });

  it('without an offset, every socket gets the same arguments from one encoding', async () => {
    const ends = [
      await connectClient({ transports: ['websocket'] }),
      await connectClient({ transports: ['websocket'], v2: true }),
    ];
    for (const [, socket] of ends) await socket.join('orders');
    const arrived = ends.map(([client]) => received(client, 'order.shipped'));
    const emitter = new LocalRoomEmitter(server);
    expect(encodes(() => emitter.emit('orders', undefined, 'order.shipped', ['orders', { id: 4 }]))).toBe(1);
    expect(await Promise.all(arrived)).toEqual([
      ['orders', { id: 4 }],
      ['orders', { id: 4 }],
    ]);
  });

  it.each([
    ['socket.io-client 4', false, [offset]],
    ['socket.io-client 2', true, []],
  ])('%s with packets queued in engine.io gets the broadcast through engine.io, in order', async (_name, v2, tail) => {
    const [client, socket] = await connectClient({ transports: ['websocket'], v2 });
    await socket.join('orders');
    const events = recorded(client, ['first', 'second', 'order.shipped', 'done']);
    const done = received(client, 'done');
    // The first write makes the transport busy until ws has sent it; the second waits in writeBuffer.
    socket.emit('first');
    socket.emit('second');
    expect(connection(socket).writeBuffer).not.toEqual([]);
    expect(new LocalRoomEmitter(server).emit('orders', undefined, 'order.shipped', ['orders', { id: 5 }], offset)).toBe(
      1,
    );
    socket.emit('done');
    await done;
    expect(events).toEqual([['first'], ['second'], ['order.shipped', 'orders', { id: 5 }, ...tail], ['done']]);
  });

  it('leaves out the `except` socket', async () => {
    const [sender, senderSocket] = await connectClient({ transports: ['websocket'] });
    const [other, otherSocket] = await connectClient({ transports: ['websocket'] });
    for (const socket of [senderSocket, otherSocket]) await socket.join('orders');
    const [senderEvents, otherEvents] = [sender, other].map((client) => recorded(client, ['order.shipped', 'done']));
    const done = [received(sender, 'done'), received(other, 'done')];
    const emitter = new LocalRoomEmitter(server);
    expect(emitter.emit('orders', senderSocket.id, 'order.shipped', ['orders', { id: 6 }], offset)).toBe(1);
    // Sent after the broadcast, on the same connections: once it arrives, the broadcast would have.
    expect(emitter.emit('orders', undefined, 'done', [])).toBe(2);
    await Promise.all(done);
    expect(senderEvents).toEqual([['done']]);
    expect(otherEvents).toEqual([['order.shipped', 'orders', { id: 6 }, offset], ['done']]);
  });

  it('an observer hears what each socket got, with the frame size when engine.io never saw the packet', async () => {
    const ends = [
      await connectClient({ transports: ['websocket'] }),
      await connectClient({ transports: ['polling'] }),
      await connectClient({ transports: ['websocket'], v2: true }),
    ];
    for (const [, socket] of ends) await socket.join('orders');
    const arrived = ends.map(([client]) => received(client, 'order.shipped'));
    const heard: [string, readonly unknown[], number | undefined][] = [];
    const emitter = new LocalRoomEmitter(server);
    emitter.observe((socket, data, unseenBytes) => heard.push([socket.id, data, unseenBytes]));
    expect(emitter.emit('orders', undefined, 'order.shipped', ['orders', { id: 9 }], offset)).toBe(3);
    await Promise.all(arrived);
    const [ws4, polling4, ws3] = ends.map(([, socket]) => socket.id);
    const frame = (data: unknown[]): number => Buffer.byteLength(`42${JSON.stringify(data)}`) + 2;
    expect(heard).toEqual([
      [ws4, ['order.shipped', 'orders', { id: 9 }, offset], frame(['order.shipped', 'orders', { id: 9 }, offset])],
      [polling4, ['order.shipped', 'orders', { id: 9 }, offset], undefined],
      [ws3, ['order.shipped', 'orders', { id: 9 }], frame(['order.shipped', 'orders', { id: 9 }])],
    ]);
  });

  it("an observer is not told of binary broadcasts: socket.io's own path tells the outgoing listeners", async () => {
    const [client, socket] = await connectClient({ transports: ['websocket'] });
    await socket.join('orders');
    const outgoing: unknown[][] = [];
    socket.onAnyOutgoing((...args: unknown[]) => outgoing.push(args));
    const heard: unknown[] = [];
    const emitter = new LocalRoomEmitter(server);
    emitter.observe((_socket, data) => heard.push(data));
    const arrived = received(client, 'file.uploaded');
    const file = Buffer.from([1, 2, 3]);
    expect(emitter.emit('orders', undefined, 'file.uploaded', ['orders', file])).toBe(1);
    await arrived;
    expect(heard).toEqual([]);
    expect(outgoing).toEqual([['file.uploaded', 'orders', file]]);
  });

  it("binary data takes socket.io's path, with the offset for Engine.IO 4 sockets only, minus `except`", async () => {
    const ends = [
      await connectClient({ transports: ['websocket'] }),
      await connectClient({ transports: ['websocket'], v2: true }),
      await connectClient({ transports: ['websocket'] }),
    ];
    for (const [, socket] of ends) await socket.join('orders');
    const except = ends[2][1].id;
    const events = ends.map(([client]) => recorded(client, ['file.uploaded', 'done']));
    const done = ends.map(([client]) => received(client, 'done'));
    const emitter = new LocalRoomEmitter(server);
    const file = Buffer.from([1, 2, 3]);
    expect(emitter.emit('orders', except, 'file.uploaded', ['orders', file], offset)).toBe(2);
    expect(emitter.emit('orders', undefined, 'done', [])).toBe(3);
    await Promise.all(done);
    expect(events).toEqual([
      [['file.uploaded', 'orders', file, offset], ['done']],
      [['file.uploaded', 'orders', file], ['done']],
      [['done']],
    ]);
  });
});
