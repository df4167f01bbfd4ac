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
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isObservable, lastValueFrom, of, type Observable } from 'rxjs';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { rawHandshake } from '../../test/support/handshake.js';
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

/**
 * What the connection limits read of engine.io 6.6 (build/server.js `verify`, `handleRequest`,
 * `handleUpgrade`, `handshake`, `abortRequest`, `abortUpgrade`): `allowRequest` runs for handshakes
 * only (not for a `sid`'s requests or upgrades), a long-polling request carries its response as
 * `req.res` there, an upgrade has none; the `connection` event's socket has the same request as
 * `socket.request` and emits `close` once; a response already sent by `allowRequest` is left as it
 * is, and a socket it ended gets no second answer.
 */
describe('engine.io as the connection limits use it', () => {
  const http = createServer();
  const seen: { req: IncomingMessage; res?: ServerResponse }[] = [];
  let refuse = false;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    server = new Server(http, {
      allowRequest: (req, callback) => {
        const res = (req as IncomingMessage & { res?: ServerResponse }).res;
        seen.push({ req, res });
        if (!refuse) return callback(null, true);
        if (res) {
          res.writeHead(503, { 'Content-Type': 'text/plain' });
          res.end('busy');
        } else {
          req.socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy');
        }
        callback('busy', false);
      },
    });
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => void server.close(() => resolve()));
  });

  const raw = (transport: 'polling' | 'websocket') => rawHandshake(base, transport);

  it('engine.io: allowRequest sees req.res on long-polling, none on an upgrade, and only for handshakes', async () => {
    seen.length = 0;
    const connections: { request: IncomingMessage }[] = [];
    const closed: string[] = [];
    const onConnection = (socket: {
      id: string;
      request: IncomingMessage;
      once(e: string, f: () => void): void;
    }): void => {
      connections.push(socket);
      socket.once('close', () => closed.push(socket.id));
    };
    server.engine.on('connection', onConnection);
    try {
      const client = io(base, { transports: ['polling', 'websocket'], forceNew: true, reconnection: false });
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      // The upgrade may finish before or after `connect` is seen.
      await until(() => client.io.engine.transport.name === 'websocket');
      expect(seen).toHaveLength(1);
      expect(seen[0].res).toBeDefined();
      expect(connections).toHaveLength(1);
      expect(connections[0].request).toBe(seen[0].req);
      const ws = io(base, { transports: ['websocket'], forceNew: true, reconnection: false });
      await new Promise<void>((resolve) => ws.once('connect', () => resolve()));
      expect(seen).toHaveLength(2);
      expect(seen[1].res).toBeUndefined();
      expect(connections[1].request).toBe(seen[1].req);
      client.close();
      ws.close();
      await until(() => closed.length === 2);
    } finally {
      server.engine.off('connection', onConnection);
    }
  });

  it('engine.io: a refusal answered by allowRequest reaches the client as sent, on both transports', async () => {
    refuse = true;
    try {
      expect(await raw('polling')).toEqual({ status: 503, body: 'busy' });
      expect(await raw('websocket')).toEqual({ status: 503, body: 'busy' });
    } finally {
      refuse = false;
    }
  });
});

/** Resolves once `condition` holds, checking every 10 ms (the test's own timeout bounds it). */
function until(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => void (condition() ? resolve() : setTimeout(check, 10));
    check();
  });
}
