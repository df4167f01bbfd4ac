/**
 * Contract of src/internals/echo-io.adapter.ts (an `IoAdapter` subclass) with
 * @nestjs/platform-socket.io 12.1.1 (adapters/io-adapter.js) and the @nestjs/websockets of the same
 * release that drives it: the members it overrides or calls (`createIOServer`, `close`,
 * `bindMessageHandlers`, `mapPayload`, `logger`), what Nest hands to `bindMessageHandlers`, and the
 * stock behaviour its own `bindMessageHandlers` reproduces (a lone argument unwrapped, the ack
 * called with the handler's result). Against a real Nest app with a gateway and a real client.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger, type INestApplication } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { Test } from '@nestjs/testing';
import { MessageBody, SubscribeMessage, WebSocketGateway, type MessageMappingProperties } from '@nestjs/websockets';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isObservable, lastValueFrom, of, type Observable } from 'rxjs';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { versionMismatch } from './written-against.js';

type Methods = Record<string, (...args: unknown[]) => unknown>;

interface BindCall {
  socket: Socket;
  handlers: MessageMappingProperties[];
  transform: (data: unknown) => Observable<unknown>;
}

/** Records what Nest passes to the members EchoIoAdapter overrides, then does what the stock adapter does. */
class RecordingAdapter extends IoAdapter {
  readonly created: [number, Partial<ServerOptions> | undefined][] = [];
  readonly bound: BindCall[] = [];

  override createIOServer(port: number, options?: ServerOptions): Server {
    this.created.push([port, options]);
    return super.createIOServer(port, options);
  }

  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    this.bound.push({ socket, handlers, transform });
    super.bindMessageHandlers(socket, handlers, transform);
  }
}

@WebSocketGateway()
class ProbeGateway {
  readonly received: unknown[] = [];

  @SubscribeMessage('probe')
  probe(@MessageBody() data: unknown): unknown {
    this.received.push(data);
    return { echoed: data };
  }
}

it('@nestjs/platform-socket.io is the version EchoIoAdapter was written against', () => {
  expect(versionMismatch('@nestjs/platform-socket.io')).toBeUndefined();
});

describe('IoAdapter.prototype and instances', () => {
  for (const [member, arity] of [
    ['createIOServer', 2], // overridden, and called as super with (port, options)
    ['close', 1], // overridden, and called as super
    ['bindMessageHandlers', 3], // overridden
    ['mapPayload', 1], // called
  ] as const) {
    it(`@nestjs/platform-socket.io: IoAdapter.prototype.${member} is a function of ${arity} argument(s)`, () => {
      const method = (IoAdapter.prototype as unknown as Methods)[member];
      expect(typeof method).toBe('function');
      expect(method.length).toBe(arity);
    });
  }

  it('@nestjs/platform-socket.io: an IoAdapter has a Logger as this.logger', () => {
    const adapter = new IoAdapter();
    expect((adapter as unknown as { logger: unknown }).logger).toBeInstanceOf(Logger);
  });

  it('@nestjs/platform-socket.io: mapPayload splits a trailing ack function from the data', () => {
    const adapter = new IoAdapter();
    const ack = (): void => undefined;
    expect(adapter.mapPayload({ channel: 'orders' })).toEqual({ data: { channel: 'orders' } });
    expect(adapter.mapPayload([{ channel: 'orders' }, ack])).toEqual({ data: { channel: 'orders' }, ack });
    expect(adapter.mapPayload(['a', 'b', ack])).toEqual({ data: ['a', 'b'], ack });
    expect(adapter.mapPayload(ack)).toEqual({ data: undefined, ack });
    expect(adapter.mapPayload(['a', 'b'])).toEqual({ data: ['a', 'b'] });
  });

  it('@nestjs/platform-socket.io: createIOServer(0, options) attaches to the HTTP server with those options; close closes both', async () => {
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const adapter = new IoAdapter(http);
    const allowRequest = (_req: unknown, callback: (err: string | null | undefined, ok: boolean) => void): void =>
      callback(null, true);
    const server = adapter.createIOServer(0, {
      allowEIO3: true,
      allowRequest,
    } as Partial<ServerOptions> as ServerOptions);
    expect(server).toBeInstanceOf(Server);
    expect(server.path()).toBe('/socket.io');
    const engineOptions = (server.engine as unknown as { opts: Record<string, unknown> }).opts;
    expect(engineOptions.allowEIO3).toBe(true);
    expect(engineOptions.allowRequest).toBe(allowRequest);
    await adapter.close(server);
    expect(http.listening).toBe(false);
  });
});

describe('a gateway on the adapter, in a Nest app', () => {
  let app: INestApplication;
  let adapter: RecordingAdapter;
  let gateway: ProbeGateway;
  let client: ClientSocket;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ providers: [ProbeGateway] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    adapter = new RecordingAdapter(app);
    app.useWebSocketAdapter(adapter);
    await app.listen(0, '127.0.0.1');
    gateway = app.get(ProbeGateway);
    const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
    client = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true });
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  });

  afterAll(async () => {
    client.close();
    await app.close();
  });

  it('@nestjs/websockets: a gateway without a port gets createIOServer(0, …) on the app HTTP server', () => {
    expect(adapter.created).toHaveLength(1);
    expect(adapter.created[0][0]).toBe(0);
  });

  it('@nestjs/websockets: bindMessageHandlers gets (socket, [{message, callback}], transform) for each connection', () => {
    expect(adapter.bound).toHaveLength(1);
    const [{ socket, handlers, transform }] = adapter.bound;
    expect(socket.id).toBe(client.id);
    expect(handlers.map((handler): unknown => handler.message)).toEqual(['probe']);
    expect(typeof handlers[0].callback).toBe('function');
    expect(typeof transform).toBe('function');
  });

  it('@nestjs/websockets: a handler callback(data, ack) runs the gateway method; transform makes its result an Observable', async () => {
    const [{ handlers, transform }] = adapter.bound;
    const result = await (handlers[0].callback as (data: unknown, ack?: unknown) => unknown)({ direct: true });
    expect(gateway.received).toContainEqual({ direct: true });
    expect(result).toEqual({ echoed: { direct: true } });
    const observable = transform(of('from an observable'));
    expect(isObservable(observable)).toBe(true);
    expect(await lastValueFrom(observable)).toBe('from an observable');
  });

  it('@nestjs/platform-socket.io: a lone argument reaches the handler unwrapped; the ack gets its result', async () => {
    const reply: unknown = await client.emitWithAck('probe', { channel: 'orders' });
    expect(gateway.received).toContainEqual({ channel: 'orders' });
    expect(reply).toEqual({ echoed: { channel: 'orders' } });
  });

  it('@nestjs/platform-socket.io: several arguments reach the handler as one array', async () => {
    const reply: unknown = await client.emitWithAck('probe', 'a', 'b');
    expect(reply).toEqual({ echoed: ['a', 'b'] });
  });
});
