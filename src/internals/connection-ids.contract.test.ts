/**
 * Contract of ./connection-ids.ts with socket.io 4.8.3 and engine.io 6.6.12: the ids of the
 * sockets of the main namespace, which are also the rooms holding them alone, are what
 * `isConnectionId` recognises, for socket.io-client 4 and 2, and so are Pusher `socket_id`s. A
 * failure means channel rooms (src/channels/channel-room.ts) could now be taken for a
 * connection's own room: re-read socket.io's dist/socket.js (constructor, `_onconnect`) and
 * engine.io's build/server.js (`generateId`) and widen the pattern.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Server, type Socket } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { newSocketId } from '../pusher/pusher-protocol.js';
import { isConnectionId } from './connection-ids.js';
import { versionMismatch } from './written-against.js';

const require = createRequire(import.meta.url);
const ioV2 = require('socket.io-client-v2') as typeof io;
/** base64id as socket.io and engine.io load it. */
const base64id = createRequire(require.resolve('socket.io'))('base64id') as { generateId(): string };

let http: HttpServer;
let server: Server;
let url: string;
const clients: ClientSocket[] = [];

beforeAll(async () => {
  http = createServer();
  server = new Server(http, { allowEIO3: true });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.close();
});

async function connect(v2: boolean): Promise<Socket> {
  const arrived = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = (v2 ? ioV2 : io)(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  clients.push(client);
  return arrived;
}

describe('versions', () => {
  it('socket.io and engine.io are the versions the pattern was written against', () => {
    expect(versionMismatch('socket.io')).toBeUndefined();
    expect(versionMismatch('engine.io')).toBeUndefined();
  });
});

describe('socket ids', () => {
  for (const v2 of [false, true]) {
    it(`socket.io: a socket of socket.io-client ${v2 ? 2 : 4} is alone in the room of its id, which isConnectionId recognises`, async () => {
      const socket = await connect(v2);
      expect(isConnectionId(socket.id)).toBe(true);
      expect(server.sockets.adapter.rooms.get(socket.id)).toEqual(new Set([socket.id]));
      // Engine.IO 3 sockets of the main namespace take the Engine.IO id.
      if (v2) expect(socket.id).toBe((socket.conn as unknown as { id: string }).id);
    });
  }

  it('engine.io: Server#generateId makes ids of the same shape', () => {
    const ids = Array.from({ length: 200 }, () => server.engine.generateId({} as never));
    expect(ids.filter((id) => typeof id !== 'string' || !isConnectionId(id))).toEqual([]);
  });

  it('base64id (socket.io 4 socket ids): 20 characters of [A-Za-z0-9_-], however the random bytes fall', () => {
    const ids = Array.from({ length: 5000 }, () => base64id.generateId());
    expect(ids.filter((id) => !isConnectionId(id))).toEqual([]);
  });
});

describe('Pusher socket ids', () => {
  it('newSocketId makes ids isConnectionId recognises', () => {
    const ids = Array.from({ length: 1000 }, () => newSocketId());
    expect(ids.filter((id) => !isConnectionId(id))).toEqual([]);
  });
});

describe('names that are no connection id', () => {
  it('are not taken for one: channel names as Laravel makes them', () => {
    for (const name of ['orders', 'private-orders.1', 'presence-chat.42', 'App.Models.User.1', 'orders.42', '1']) {
      expect(isConnectionId(name)).toBe(false);
    }
  });
});
