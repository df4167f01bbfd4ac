import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Server, type Socket } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { waitUntil } from '../../test/support/ports.js';
import { BroadcastDto } from '../broadcast/broadcast.dto.js';
import { LimitsConfig, limitsConfigSlice } from '../limits/limits.config.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { BroadcastDelivery } from './broadcast-delivery.js';
import { SlowConsumers } from './slow-consumers.js';
import { SocketServer } from './socket-server.js';
import { PusherHub } from '../pusher/pusher-hub.js';
import { ChannelCache } from '../pusher/channel-cache.js';

const require = createRequire(import.meta.url);
const { WebSocket } = createRequire(require.resolve('engine.io'))('ws') as {
  WebSocket: new (url: string) => RawWebSocket;
};

interface RawWebSocket {
  _socket: { pause(): void };
  on(event: string, listener: (...args: unknown[]) => void): void;
  send(data: string): void;
  terminate(): void;
}

const LIMIT = 64 * 1024;
const kilobyte = 'k'.repeat(1024);

function broadcast(channel: string, data: object): BroadcastDto {
  return Object.assign(new BroadcastDto(), { channel, event: 'order.shipped', data });
}

describe('SlowConsumers (limits.maxBufferedBytes) on a socket.io server', () => {
  let http: HttpServer;
  let server: Server;
  let url: string;
  let delivery: BroadcastDelivery;
  let metrics: RelayMetrics;
  const warnings: string[] = [];
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    http = createServer();
    // Pings would queue for the silent clients too: only the spec's own writes count here.
    server = new Server(http, { pingInterval: 600_000, pingTimeout: 600_000 });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const moduleRef = await Test.createTestingModule({
      providers: [
        SocketServer,
        BroadcastDelivery,
        RelayMetrics,
        SlowConsumers,
        PusherHub,
        { provide: ChannelCache, useValue: { remember: () => undefined } },
        { provide: LimitsConfig, useValue: { ...limitsConfigSlice.defaults(), maxBufferedBytes: LIMIT } },
      ],
    }).compile();
    moduleRef.useLogger({
      log: () => {},
      error: () => {},
      warn: (message: unknown) => warnings.push(String(message)),
    });
    moduleRef.get(SocketServer).attach(server);
    await moduleRef.init(); // onApplicationBootstrap: SlowConsumers watches the server
    delivery = moduleRef.get(BroadcastDelivery);
    metrics = moduleRef.get(RelayMetrics);
  });

  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  afterAll(async () => {
    Logger.overrideLogger(false);
    await server.close();
  });

  const disconnects = async (transport: string): Promise<number> =>
    (await metrics.slowConsumerDisconnects.get()).values.find((v) => v.labels.transport === transport)?.value ?? 0;

  /** A raw WebSocket client in `room` whose TCP socket stops reading; returns the server's socket. */
  async function stalledWebSocket(room: string): Promise<Socket> {
    const arrived = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
    cleanups.push(() => client.terminate());
    client.on('message', (data) => {
      if (String(data).startsWith('0')) client.send('40');
    });
    const socket = await arrived;
    await socket.join(room);
    client._socket.pause();
    return socket;
  }

  /** A long-polling client in `room` that connected, then never polls again. */
  async function silentPoller(room: string): Promise<Socket> {
    const arrived = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const open = await (await fetch(`${url}/socket.io/?EIO=4&transport=polling`)).text();
    const { sid } = JSON.parse(open.slice(1)) as { sid: string };
    await (await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '40' })).text();
    const socket = await arrived;
    cleanups.push(() => socket.conn.close(true));
    await socket.join(room);
    return socket;
  }

  /** A socket.io client in `room` that reads everything; records what it receives. */
  async function healthy(room: string): Promise<[ClientSocket, number[]]> {
    const arrived = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
    cleanups.push(() => client.close());
    const received: number[] = [];
    client.on('order.shipped', (_channel: string, data: { n: number }) => received.push(data.n));
    await (await arrived).join(room);
    return [client, received];
  }

  it('cuts off a WebSocket that stops reading on the fast path, counts it once, and the healthy socket gets everything', async () => {
    const before = await disconnects('websocket');
    const slow = await stalledWebSocket('fast');
    const [, received] = await healthy('fast');
    const gone = new Promise((resolve) => slow.once('disconnect', resolve));
    let sent = 0;
    // The kernel's buffers take the first megabytes without a sign; then ws holds the rest. Batches
    // stay well under the limit, so the healthy client (reading between them) never nears it.
    const deadline = Date.now() + 30_000;
    while (slow.connected && Date.now() < deadline) {
      for (let i = 0; i < 16; i++) delivery.deliverLocal(broadcast('fast', { n: sent++, pad: kilobyte }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(slow.connected).toBe(false);
    expect(await gone).toBe('forced close');
    expect(await disconnects('websocket')).toBe(before + 1);
    expect(server.sockets.adapter.rooms.get('fast')?.size).toBe(1);
    expect(warnings.some((line) => line.includes('slow consumer (websocket') && line.includes(`(${LIMIT})`))).toBe(
      true,
    );
    // Further broadcasts reach only the healthy socket, and it has them all, in order.
    for (let i = 0; i < 10; i++) delivery.deliverLocal(broadcast('fast', { n: sent++, pad: kilobyte }));
    await waitUntil(() => received.length === sent, 30_000, `all ${sent} broadcasts at the healthy client`);
    expect(received).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(await disconnects('websocket')).toBe(before + 1);
  });

  it('cuts off a long-polling client that stops polling, through engine.io writes of any kind', async () => {
    const before = await disconnects('polling');
    const slow = await silentPoller('polling');
    const gone = new Promise((resolve) => slow.once('disconnect', resolve));
    // Through the adapter, as the HTTP API, presence and whispers emit.
    for (let i = 0; i < LIMIT / 1024 - 2 && slow.connected; i++) server.to('polling').emit('e', 'polling', kilobyte);
    expect(slow.connected).toBe(true);
    for (let i = 0; i < 4 && slow.connected; i++) server.to('polling').emit('e', 'polling', kilobyte);
    expect(slow.connected).toBe(false);
    expect(await gone).toBe('forced close');
    expect(await disconnects('polling')).toBe(before + 1);
    expect(server.sockets.adapter.rooms.get('polling')).toBeUndefined();
  });

  it('cuts off a long-polling client on the fallback of the fast path (deliverLocal)', async () => {
    const before = await disconnects('polling');
    const slow = await silentPoller('fallback');
    for (let i = 0; i < LIMIT / 1024 + 4 && slow.connected; i++)
      delivery.deliverLocal(broadcast('fallback', { n: i, pad: kilobyte }));
    expect(slow.connected).toBe(false);
    expect(await disconnects('polling')).toBe(before + 1);
  });

  it('leaves a client alone while what it has not fetched stays under the limit', async () => {
    const before = await disconnects('polling');
    const slow = await silentPoller('patient');
    for (let i = 0; i < LIMIT / 1024 / 2; i++) delivery.deliverLocal(broadcast('patient', { n: i, pad: kilobyte }));
    expect(slow.connected).toBe(true);
    expect(await disconnects('polling')).toBe(before);
  });
});
