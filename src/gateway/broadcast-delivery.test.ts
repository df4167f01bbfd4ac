import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { waitUntil } from '../../test/support/ports.js';
import { BroadcastDto } from '../broadcast/broadcast.dto.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { LimitsConfig, limitsConfigSlice } from '../limits/limits.config.js';
import { BroadcastDelivery } from './broadcast-delivery.js';
import { SlowConsumers } from './slow-consumers.js';
import { SocketServer } from './socket-server.js';
import { PusherHub } from '../pusher/pusher-hub.js';
import { ChannelCache } from '../pusher/channel-cache.js';

function broadcast(channel: string, event: string, data: object, socket?: string): BroadcastDto {
  return Object.assign(new BroadcastDto(), { channel, event, data, socket });
}

describe('SocketServer before the gateway attached the server', () => {
  it('has no sockets, and emits to nobody', () => {
    const sockets = new SocketServer();
    expect([...sockets.localSockets()]).toEqual([]);
    expect(sockets.localConnections()).toEqual([]);
    expect(() => sockets.emitToChannel('orders', 'presence:leaving', 'orders', {})).not.toThrow();
    expect(() => sockets.io).toThrow('not started');
  });
});

describe('BroadcastDelivery on a socket.io server', () => {
  let http: HttpServer;
  let server: Server;
  let delivery: BroadcastDelivery;
  let sockets: SocketServer;
  let metrics: RelayMetrics;
  /** Three clients; the first two in `orders`. */
  const clients: ClientSocket[] = [];
  const received: [number, string, unknown][] = [];
  /** What delivery handed to the cache channels' cache (which itself keeps `cache-*` ones only). */
  const remembered: [string, string, unknown][] = [];
  const cache = { remember: (...args: [string, string, unknown]) => remembered.push(args) };

  beforeAll(async () => {
    http = createServer();
    server = new Server(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const moduleRef = await Test.createTestingModule({
      providers: [
        SocketServer,
        BroadcastDelivery,
        RelayMetrics,
        SlowConsumers,
        PusherHub,
        { provide: ChannelCache, useValue: cache },
        { provide: LimitsConfig, useValue: limitsConfigSlice.defaults() },
      ],
    }).compile();
    sockets = moduleRef.get(SocketServer);
    sockets.attach(server);
    delivery = moduleRef.get(BroadcastDelivery);
    metrics = moduleRef.get(RelayMetrics);
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    for (let i = 0; i < 3; i++) {
      const client = io(url, { transports: ['websocket'], forceNew: true });
      client.onAny((event: string, channel: string, data: unknown) => received.push([i, `${event}@${channel}`, data]));
      clients.push(client);
    }
    await waitUntil(() => server.sockets.sockets.size === 3 && clients.every((c) => c.id), 5000, 'three sockets');
    for (const client of clients.slice(0, 2)) void server.sockets.sockets.get(client.id!)!.join('orders');
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server.close();
  });

  async function deliveries(): Promise<number> {
    return (await metrics.deliveries.get()).values[0]?.value ?? 0;
  }

  async function observed(): Promise<number> {
    const values = (await metrics.ingestToEmit.get()).values;
    return values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  }

  it('deliverLocal emits (event, channel, data) to the room minus `socket`, and counts it', async () => {
    received.length = 0;
    const before = await deliveries();
    expect(delivery.deliverLocal(broadcast('orders', 'shipped', { id: 1 }), performance.now())).toBe(2);
    expect(delivery.deliverLocal(broadcast('orders', 'paid', { id: 2 }, clients[0].id))).toBe(1);
    await waitUntil(() => received.length === 3, 5000, 'three events');
    expect(received.sort()).toEqual([
      [0, 'shipped@orders', { id: 1 }],
      [1, 'paid@orders', { id: 2 }],
      [1, 'shipped@orders', { id: 1 }],
    ]);
    expect((await deliveries()) - before).toBe(3);
    expect(await observed()).toBe(1);
  });

  it('deliverLocal with an offset passes it on as the last argument, minus `socket`', async () => {
    const offsets: unknown[][] = [];
    const listener = (...args: unknown[]) => offsets.push(args);
    clients[0].on('offered', listener);
    clients[1].on('offered', listener);
    try {
      expect(delivery.deliverLocal(broadcast('orders', 'offered', { id: 3 }, clients[0].id), undefined, '17-0')).toBe(
        1,
      );
      expect(delivery.deliverLocal(broadcast('orders', 'offered', { id: 4 }), undefined, '17-1')).toBe(2);
      await waitUntil(() => offsets.length === 3, 5000, 'three events');
      expect(offsets.sort()).toEqual([
        ['orders', { id: 3 }, '17-0'],
        ['orders', { id: 4 }, '17-1'],
        ['orders', { id: 4 }, '17-1'],
      ]);
    } finally {
      clients[0].off('offered', listener);
      clients[1].off('offered', listener);
    }
  });

  it('deliverLocal to an empty room reaches nobody and observes nothing', async () => {
    const [before, seen] = [await deliveries(), await observed()];
    expect(delivery.deliverLocal(broadcast('empty', 'e', {}), performance.now())).toBe(0);
    expect(await deliveries()).toBe(before);
    expect(await observed()).toBe(seen);
  });

  it('deliverCluster emits through the adapter, minus `socket`, and counts this node', async () => {
    received.length = 0;
    const [before, seen] = [await deliveries(), await observed()];
    expect(delivery.deliverCluster(broadcast('orders', 'refunded', [1], clients[1].id), performance.now())).toBe(1);
    expect(delivery.deliverCluster(broadcast('empty', 'e', {}), performance.now())).toBe(0);
    await waitUntil(() => received.length === 1, 5000, 'one event');
    expect(received).toEqual([[0, 'refunded@orders', [1]]]);
    expect((await deliveries()) - before).toBe(1);
    expect((await observed()) - seen).toBe(2);
  });

  it('hands every event either path delivers to the channel cache, rooms empty or not', () => {
    remembered.length = 0;
    delivery.deliverLocal(broadcast('cache-score', 'goal', { home: 1 }));
    delivery.deliverCluster(broadcast('private-cache-score', 'goal', { home: 2 }, clients[0].id));
    expect(remembered).toEqual([
      ['cache-score', 'goal', { home: 1 }],
      ['private-cache-score', 'goal', { home: 2 }],
    ]);
  });

  it('lets presence, the HTTP API and the drain see the same sockets', async () => {
    expect([...sockets.localSockets()].map((s) => s.id).sort()).toEqual(clients.map((c) => c.id).sort());
    expect(sockets.localConnections()).toHaveLength(3);
    expect((await sockets.clusterSockets('orders')).map((s) => s.id).sort()).toEqual(
      [clients[0].id, clients[1].id].sort(),
    );
    expect(sockets.localRooms.rooms.get('orders')?.size).toBe(2);
  });
});
