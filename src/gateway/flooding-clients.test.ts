import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { Server } from 'socket.io';
import { LimitsConfig, limitsConfigSlice } from '../limits/limits.config.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { FloodingClients } from './flooding-clients.js';
import { SocketServer } from './socket-server.js';

/** engine.io's socket as far as `FloodingClients` reads it. */
class FakeConnection extends EventEmitter {
  readyState = 'open';
  readonly transport = { name: 'websocket' };
  closedWith?: boolean;

  constructor(
    readonly id: string,
    readonly protocol: number,
  ) {
    super();
  }

  close(discard?: boolean): void {
    this.readyState = 'closed';
    this.closedWith = discard;
  }
}

function setup(limits: Partial<LimitsConfig>): { engine: EventEmitter; metrics: RelayMetrics } {
  const engine = new EventEmitter();
  const metrics = new RelayMetrics();
  const config = Object.assign(new LimitsConfig(), limitsConfigSlice.defaults(), limits);
  new FloodingClients(config, metrics, new SocketServer()).watch({ engine } as unknown as Server);
  return { engine, metrics };
}

function packets(conn: FakeConnection, n: number): void {
  for (let i = 0; i < n && conn.readyState === 'open'; i++) conn.emit('packet', { type: 'message', data: '2' });
}

async function counted(metrics: RelayMetrics, protocol: string): Promise<number> {
  return (await metrics.floodDisconnects.get()).values.find((v) => v.labels.protocol === protocol)?.value ?? 0;
}

describe('FloodingClients (limits.maxMessagesPerSecond) on engine.io connections', () => {
  it('closes a connection at once, discarding its buffer, on the first packet past the burst; counts it by protocol', async () => {
    const { engine, metrics } = setup({ maxMessagesPerSecond: 10, maxMessageBurst: 50 });
    const eio4 = new FakeConnection('a', 4);
    const eio3 = new FakeConnection('b', 3);
    engine.emit('connection', eio4);
    engine.emit('connection', eio3);
    packets(eio4, 50);
    expect(eio4.readyState).toBe('open');
    packets(eio4, 10);
    expect(eio4.closedWith).toBe(true);
    packets(eio3, 100);
    expect(eio3.readyState).toBe('closed');
    expect(await counted(metrics, 'eio4')).toBe(1);
    expect(await counted(metrics, 'eio3')).toBe(1);
  });

  it('gives every connection a burst of its own', () => {
    const { engine } = setup({ maxMessagesPerSecond: 10, maxMessageBurst: 50 });
    const first = new FakeConnection('a', 4);
    const second = new FakeConnection('b', 4);
    engine.emit('connection', first);
    engine.emit('connection', second);
    packets(first, 50);
    packets(second, 50);
    expect([first.readyState, second.readyState]).toEqual(['open', 'open']);
  });

  it('watches nothing when maxMessagesPerSecond is 0', async () => {
    const { engine, metrics } = setup({ maxMessagesPerSecond: 0, maxMessageBurst: 1 });
    const conn = new FakeConnection('a', 4);
    engine.emit('connection', conn);
    packets(conn, 100_000);
    expect(conn.readyState).toBe('open');
    expect(conn.listenerCount('packet')).toBe(0);
    expect(await counted(metrics, 'eio4')).toBe(0);
  });
});
