/**
 * Contract of ./buffered-bytes.ts with ws 8.21.3 and engine.io 6.6.12: what it reads of them,
 * checked on a real server and real clients (a WebSocket whose TCP socket stops reading, a
 * long-polling client that stops polling). A failure names the library and the member; re-read
 * engine.io's build/socket.js (sendPacket, flush, close) and ws's lib/websocket.js
 * (bufferedAmount, terminate) before changing the module.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Server, type Socket } from 'socket.io';
import { waitUntil } from '../../test/support/ports.js';
import { bufferedBytes, closeAtOnce, writeBufferBytes, type Connection } from './buffered-bytes.js';
import { versionMismatch } from './written-against.js';

const require = createRequire(import.meta.url);
/** `ws` as engine.io loads it. */
const { WebSocket } = createRequire(require.resolve('engine.io'))('ws') as {
  WebSocket: new (url: string) => RawWebSocket;
};

interface RawWebSocket {
  readyState: number;
  _socket: { pause(): void };
  on(event: string, listener: (...args: unknown[]) => void): void;
  send(data: string): void;
  terminate(): void;
}

let http: HttpServer;
let server: Server;
let url: string;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  http = createServer();
  // No pings within a spec: only what the spec sends is queued.
  server = new Server(http, { pingInterval: 600_000, pingTimeout: 600_000 });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

afterAll(async () => {
  await server.close();
});

const connection = (socket: Socket): Connection & { writeBuffer: { data?: unknown }[] } =>
  socket.conn as unknown as Connection & { writeBuffer: { data?: unknown }[] };

/** A raw Engine.IO 4 WebSocket client, connected to the main namespace; returns both ends. */
async function webSocketClient(): Promise<[RawWebSocket, Socket]> {
  const arrived = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  cleanups.push(() => client.terminate());
  client.on('message', (data) => {
    if (String(data).startsWith('0')) client.send('40');
  });
  return [client, await arrived];
}

/** A long-polling client that handshakes, connects the namespace, then never polls again. */
async function silentPollingClient(): Promise<Socket> {
  const arrived = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const open = await (await fetch(`${url}/socket.io/?EIO=4&transport=polling`)).text();
  const { sid } = JSON.parse(open.slice(1)) as { sid: string };
  const endpoint = `${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
  await (await fetch(endpoint, { method: 'POST', body: '40' })).text();
  const socket = await arrived;
  cleanups.push(() => socket.conn.close(true));
  return socket;
}

describe('versions', () => {
  for (const name of ['ws', 'engine.io'] as const) {
    it(`${name} is the version buffered-bytes was written against`, () => {
      expect(versionMismatch(name)).toBeUndefined();
    });
  }
});

describe('engine.io, a long-polling client that stops polling', () => {
  it('engine.io: packets wait in conn.writeBuffer as {type, data}, the same array growing, no transport.socket', async () => {
    const socket = await silentPollingClient();
    const conn = connection(socket);
    expect(conn.transport.name).toBe('polling');
    expect(conn.transport.socket).toBeUndefined();
    const buffer = conn.writeBuffer;
    const before = buffer.length; // the namespace's CONNECT packet, never fetched
    socket.emit('order.shipped', 'orders', 'x'.repeat(1000));
    socket.emit('order.shipped', 'orders', 'y'.repeat(1000));
    expect(conn.writeBuffer).toBe(buffer);
    expect(buffer.length).toBe(before + 2);
    expect(typeof buffer[before].data).toBe('string');
    expect(buffer[before]).toMatchObject({ type: 'message' });
    expect(bufferedBytes(conn)).toBeGreaterThan(2000);
  });

  it("engine.io: 'packetCreate' is emitted before the packet joins the write buffer", async () => {
    const socket = await silentPollingClient();
    const conn = connection(socket);
    const seen: [number, boolean][] = [];
    socket.conn.on('packetCreate', (packet: unknown) => {
      seen.push([conn.writeBuffer.length, conn.writeBuffer.includes(packet as never)]);
    });
    const before = conn.writeBuffer.length;
    socket.emit('order.shipped', 'orders', {});
    expect(seen).toEqual([[before, false]]);
  });

  it('engine.io: flush hands the buffer over and starts a new array (a later count starts afresh)', async () => {
    const socket = await silentPollingClient();
    const conn = connection(socket);
    socket.emit('order.shipped', 'orders', 'x'.repeat(500));
    const buffer = conn.writeBuffer;
    expect(writeBufferBytes(buffer)).toBeGreaterThan(500);
    const sid = (socket.conn as unknown as { id: string }).id;
    const poll = await (await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`)).text();
    expect(poll).toContain('x'.repeat(500));
    expect(conn.writeBuffer).not.toBe(buffer);
    expect(conn.writeBuffer).toEqual([]);
    expect(bufferedBytes(conn)).toBe(0);
  });

  it('engine.io: conn.close(true) closes at once, buffer or not, and socket.io sees the disconnect', async () => {
    const socket = await silentPollingClient();
    const conn = connection(socket);
    socket.emit('order.shipped', 'orders', 'x'.repeat(500));
    expect(conn.writeBuffer.length).toBeGreaterThan(0);
    const reason = new Promise((resolve) => socket.once('disconnect', resolve));
    closeAtOnce(conn);
    expect(conn.readyState).toBe('closed');
    expect(socket.connected).toBe(false);
    expect(await reason).toBe('forced close');
  });
});

describe('ws, a WebSocket client that stops reading', () => {
  it('ws: transport.socket.bufferedAmount counts what the TCP socket holds, and grows while the client does not read', async () => {
    const [client, socket] = await webSocketClient();
    await waitUntil(() => socket.connected, 5000, 'namespace connect');
    const conn = connection(socket);
    expect(conn.transport.name).toBe('websocket');
    expect(conn.transport.socket?.bufferedAmount).toBe(0);
    client._socket.pause();
    const webSocket = conn.transport.socket as unknown as { send(data: string): void };
    const chunk = 'x'.repeat(64 * 1024);
    // The kernel's buffers take the first megabytes; what they cannot take stays in the process.
    await waitUntil(
      () => {
        for (let i = 0; i < 16; i++) webSocket.send(chunk);
        return bufferedAmount(conn) > 1024 * 1024;
      },
      20_000,
      'bytes held by ws',
    );
    expect(bufferedBytes(conn)).toBeGreaterThanOrEqual(bufferedAmount(conn));
  });

  it('ws: terminate() (through closeAtOnce) destroys the TCP socket at once, the client sees it close', async () => {
    const [client, socket] = await webSocketClient();
    await waitUntil(() => socket.connected, 5000, 'namespace connect');
    const closed = new Promise((resolve) => client.on('close', resolve));
    const conn = connection(socket);
    const webSocket = conn.transport.socket as { readyState: number };
    closeAtOnce(conn);
    expect(conn.readyState).toBe('closed');
    expect(webSocket.readyState).toBeGreaterThanOrEqual(2); // CLOSING or CLOSED, the socket destroyed
    await closed;
  });
});

function bufferedAmount(conn: Connection): number {
  return conn.transport.socket?.bufferedAmount ?? 0;
}
