/**
 * Contract of ./recovery-handshake.ts with socket.io 4.8.3: what it replaces and reads of socket.io
 * (`Namespace#_createSocket`, the `Socket` constructor's previous session, `Socket#pid` in the
 * CONNECT reply, `_doConnect` from `process.nextTick`), checked on a real server with real
 * socket.io-client 4 and 2 clients. A failure names the member; re-read socket.io's
 * dist/namespace.js (`_add`, `_createSocket`, `_doConnect`) and dist/socket.js (constructor,
 * `_onconnect`) before changing the handshake.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Namespace, Server, Socket } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { installRecoveryHandshake, sessionIdOf, type PreviousSession } from './recovery-handshake.js';
import { versionMismatch } from './written-against.js';

const require = createRequire(import.meta.url);
const ioV2 = require('socket.io-client-v2') as typeof io;

/** The test decides each restore; every call and every created socket is recorded. */
const restores: [string, string | undefined][] = [];
let answer: (pid: string, offset: string | undefined) => PreviousSession | undefined = () => undefined;
/** Per created socket: whether it was connected then, and whether it was by the next macrotask. */
const created: { socket: Socket; connectedThen: boolean; reachableNext: Promise<boolean> }[] = [];

let http: HttpServer;
let server: Server;
let url: string;
const clients: ClientSocket[] = [];

beforeAll(async () => {
  http = createServer();
  server = new Server(http, { allowEIO3: true });
  installRecoveryHandshake(server.sockets, Socket as never, {
    restore: (pid, offset) => {
      restores.push([pid, offset]);
      return Promise.resolve(answer(pid, offset));
    },
    created: (socket) => {
      const reachableNext = new Promise<boolean>((resolve) =>
        setImmediate(() => resolve(server.sockets.sockets.get(socket.id) === socket && socket.connected)),
      );
      created.push({ socket, connectedThen: socket.connected, reachableNext });
    },
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  restores.length = 0;
  created.length = 0;
  answer = () => undefined;
});

afterAll(async () => {
  await server.close(); // and the HTTP server under it
});

/** A client that reconnects at once after a drop; resolves with it and its server socket once connected. */
async function connect(v2 = false): Promise<[ClientSocket, Socket]> {
  const arrived = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = (v2 ? ioV2 : io)(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnectionDelay: 1,
    reconnectionDelayMax: 1,
  });
  clients.push(client);
  const socket = await arrived;
  await new Promise<void>((resolve) => (client.connected ? resolve() : client.once('connect', () => resolve())));
  return [client, socket];
}

/** Drops the client's transport from the server side and resolves with the socket of its reconnection. */
async function dropAndReconnect(client: ClientSocket, socket: Socket): Promise<Socket> {
  const arrived = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const reconnected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
  socket.conn.close();
  const next = await arrived;
  await reconnected;
  return next;
}

describe('versions', () => {
  it('socket.io is the version the handshake was written against', () => {
    expect(versionMismatch('socket.io')).toBeUndefined();
  });

  it('socket.io: Namespace#_createSocket is a method the handshake can replace per namespace', () => {
    expect(typeof (Namespace.prototype as unknown as { _createSocket: unknown })._createSocket).toBe('function');
  });
});

describe('Engine.IO 4 (socket.io-client 4)', () => {
  it('socket.io: the CONNECT reply carries the pid the handshake set ({sid, pid}), and the socket is created before it connects', async () => {
    const packets: { type: number; data?: unknown }[] = [];
    const client = io(url, { transports: ['websocket'], forceNew: true, autoConnect: false });
    clients.push(client);
    client.io.on('packet', (packet) => packets.push(packet));
    const arrived = new Promise<Socket>((resolve) => server.once('connection', resolve));
    client.connect();
    const socket = await arrived;
    await new Promise<void>((resolve) => (client.connected ? resolve() : client.once('connect', () => resolve())));

    const pid = sessionIdOf(socket);
    expect(pid).toMatch(/^[\w-]{20}$/);
    expect(packets.find((packet) => packet.type === 0)?.data).toEqual({ sid: socket.id, pid });
    expect(client.recovered).toBe(false);
    // A first connection presents no session: nothing to restore.
    expect(restores).toEqual([]);
    expect(created.map((c) => [c.socket, c.connectedThen])).toEqual([[socket, false]]);
    // socket.io's _add runs _doConnect from process.nextTick: no I/O between creation and reachability.
    expect(await created[0].reachableNext).toBe(true);
  });

  it('socket.io: a restored session gives the client its id back, recovered, its rooms, and the missed packets before anything newer', async () => {
    const [client, first] = await connect();
    const pid = sessionIdOf(first)!;
    const events: unknown[][] = [];
    client.onAny((...args: unknown[]) => events.push(args));
    client.on('connect', () => events.push(['(connect)']));
    // socket.io-client keeps the last string argument of an event as its offset.
    const seen = new Promise<void>((resolve) => client.once('order.created', () => resolve()));
    first.emit('order.created', 'orders', { id: 1 }, '10-0');
    await seen;
    events.length = 0;

    answer = (sessionPid) => ({
      sid: first.id,
      pid: sessionPid,
      rooms: ['orders', 'private-orders.1'],
      data: {},
      missedPackets: [
        ['order.shipped', 'orders', { id: 1 }, '11-0'],
        ['order.paid', 'private-orders.1', { id: 1 }, '12-0'],
      ],
    });
    server.once('connection', (socket: Socket) => socket.emit('newer', 'orders', {}, '13-0'));
    const newer = new Promise<void>((resolve) => client.once('newer', () => resolve()));
    const restored = await dropAndReconnect(client, first);
    await newer;

    expect(restores).toEqual([[pid, '10-0']]);
    expect(restored).not.toBe(first);
    expect(restored.id).toBe(first.id);
    expect(restored.recovered).toBe(true);
    expect(sessionIdOf(restored)).toBe(pid);
    expect([...restored.rooms].sort()).toEqual([first.id, 'orders', 'private-orders.1'].sort());
    expect(server.sockets.sockets.get(first.id)).toBe(restored);
    expect(client.id).toBe(first.id);
    expect(client.recovered).toBe(true);
    // The client buffers the missed packets until the CONNECT, then emits them first.
    expect(events).toEqual([
      ['order.shipped', 'orders', { id: 1 }, '11-0'],
      ['order.paid', 'private-orders.1', { id: 1 }, '12-0'],
      ['(connect)'],
      ['newer', 'orders', {}, '13-0'],
    ]);
    expect(created.at(-1)).toMatchObject({ socket: restored, connectedThen: false });
    expect(await created.at(-1)!.reachableNext).toBe(true);

    // And it reconnects next time with the offset of the last missed packet it was sent.
    answer = () => undefined;
    await dropAndReconnect(client, restored);
    expect(restores.at(-1)).toEqual([pid, '13-0']);
  });

  it('socket.io: no session (undefined) connects the client afresh, with a new id and pid', async () => {
    const [client, first] = await connect();
    const seen = new Promise<void>((resolve) => client.once('order.created', () => resolve()));
    first.emit('order.created', 'orders', {}, '20-0');
    await seen;

    const fresh = await dropAndReconnect(client, first);

    expect(restores).toEqual([[sessionIdOf(first), '20-0']]);
    expect(fresh.id).not.toBe(first.id);
    expect(fresh.recovered).toBe(false);
    expect(sessionIdOf(fresh)).toMatch(/^[\w-]{20}$/);
    expect(sessionIdOf(fresh)).not.toBe(sessionIdOf(first));
    expect(client.id).toBe(fresh.id);
    expect(client.recovered).toBe(false);
  });

  it('socket.io: a client without an offset yet (no string-ended event received) is consulted with none, and restored', async () => {
    const [client, first] = await connect();
    const pid = sessionIdOf(first)!;
    answer = (p) => ({ sid: first.id, pid: p, rooms: ['orders'], data: {}, missedPackets: [] });

    const restored = await dropAndReconnect(client, first);

    // socket.io-client sends {pid} alone: its offset is undefined until an event ends with a string.
    expect(restores).toEqual([[pid, undefined]]);
    expect(restored.id).toBe(first.id);
    expect(restored.recovered).toBe(true);
    expect(restored.rooms.has('orders')).toBe(true);
  });
});

describe('Engine.IO 3 (socket.io-client 2)', () => {
  it('socket.io: is created as before, without a pid, and the handshake is never called, even after a reconnect', async () => {
    const [client, first] = await connect(true);
    expect(first.conn.protocol).toBe(3);
    expect(sessionIdOf(first)).toBeUndefined();
    const seen = new Promise<void>((resolve) => client.once('order.created', () => resolve()));
    first.emit('order.created', 'orders', {}, '30-0');
    await seen;

    const again = await dropAndReconnect(client, first);

    expect(sessionIdOf(again)).toBeUndefined();
    expect(again.recovered).toBe(false);
    expect(restores).toEqual([]);
    // Created by socket.io's own _createSocket, untouched: `created` is for Engine.IO 4 sockets.
    expect(created).toEqual([]);
  });
});
