/**
 * Written against @nestjs/platform-socket.io 12.1.1, socket.io 4.8.3 and ioredis 6.0.0 (see
 * WRITTEN_AGAINST in ./written-against.ts).
 *
 * Nest internals used: `IoAdapter#createIOServer(port, options)` (builds the socket.io server on
 * Nest's HTTP server), `IoAdapter#close`, `IoAdapter#bindMessageHandlers(socket, handlers,
 * transform)` replaced with plain listeners, `AbstractWsAdapter#mapPayload` (splits an ack off the
 * arguments) and its protected `logger`.
 *
 * engine.io 6.6.12 internals used by the connection limits: `allowRequest` runs for handshakes only,
 * with the long-polling response as `req.res` (none on an upgrade); the `connection` socket's
 * `request` is that same request and it emits `close` once; engine.io's own refusal (400/403) leaves
 * a response already sent alone and writes nothing to a socket already ended. `engine.use`
 * middlewares run for long-polling requests with the `http.ServerResponse` and for WebSocket
 * upgrades with a stand-in response that is no `ServerResponse`.
 *
 * Contract: ./echo-io.adapter.contract.test.ts.
 */
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import cors from 'cors';
import { ServerResponse, type IncomingMessage } from 'node:http';
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';
import type { RedisConfig } from '../redis/redis.config.js';
import { socketOrigins, type ServerConfig } from '../server/server.config.js';
import { isSameOrigin, originAllowList } from '../common/origins.js';
import type { LimitsConfig } from '../limits/limits.config.js';
import { clientAddress, ConnectionLimiter, normalizeIp, type ConnectionRefusal } from '../limits/connection-limiter.js';
import type { NodeConnections } from '../limits/node-connections.js';
import type { RelayMetrics } from '../metrics/relay-metrics.js';
import { closeRedisClient, connectRedis } from '../redis/redis-client.js';
import { redisNames } from '../redis/redis-namespace.js';
import { ADAPTER_PUB_COMMANDS, ADAPTER_SUB_COMMANDS, createGuardedAdapter } from './guarded-redis-adapter.js';
import { CorkedWebSocketServer } from '../server/corked-websocket-server.js';
import { handleFireAndForget } from './ioredis-commands.js';
import type { RedisClient } from '../redis/redis-options.js';

/**
 * socket.io server as laravel-echo-server users expect it (path `/socket.io`, Engine.IO 3 clients
 * from socket.io-client 2 accepted) plus an origin allow-list enforced on the handshake of both
 * transports: browsers apply no CORS to WebSockets, so without it any site could open a socket
 * with the user's cookies.
 *
 * The socket.io Redis adapter connects the nodes: `to(room)` emits (presence joining/leaving,
 * whispers) reach the room's sockets on every node. Laravel broadcasts use `local` instead,
 * because every node receives them from Redis itself.
 */
export class EchoIoAdapter extends IoAdapter {
  private readonly log = new Logger('SocketAdapter');
  private readonly redisClients: RedisClient[] = [];

  constructor(
    app: INestApplicationContext,
    private readonly config: ServerConfig,
    private readonly redis: RedisConfig,
    /** True once the node is shutting down: new clients are sent elsewhere. */
    private readonly draining: () => boolean = () => false,
    /**
     * `limits.maxWhisperBytes`, and the node's connection count (`maxConnections`,
     * `maxConnectionsPerIp`, shared with the Pusher endpoint); none when absent.
     */
    private readonly limits?: { config: LimitsConfig; metrics: RelayMetrics; connections?: NodeConnections },
    /**
     * Accept handshakes from pages this server serves itself (same host and port), whatever the
     * allow-list says: the Admin UI's, when it is enabled.
     */
    private readonly allowSameOrigin = false,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: Partial<ServerOptions>): Server {
    const server = this.createEchoServer(port, options);
    // While Redis is away, cross-node emits are dropped rather than queued and sent stale; the
    // subscriber waits for Redis however long it takes, and resubscribes after every reconnect.
    const pub = connectRedis(this.redis, 'adapter-pub', this.log, { enableOfflineQueue: false });
    const sub = connectRedis(this.redis, 'adapter-sub', this.log, { maxRetriesPerRequest: null });
    handleFireAndForget(pub, ADAPTER_PUB_COMMANDS, this.log);
    handleFireAndForget(sub, ADAPTER_SUB_COMMANDS, this.log);
    this.redisClients.push(pub, sub);
    // Cross-node emits and requests on channels of this app only: another app's relays on the same
    // Redis (another Laravel prefix) neither receive nor answer them.
    server.adapter(createGuardedAdapter(pub, sub, { key: redisNames(this.redis.prefix).adapterKey }));
    return server;
  }

  /** Closes the server, then the adapter's Redis connections. */
  override async close(server: Server): Promise<void> {
    await super.close(server);
    await Promise.all(this.redisClients.splice(0).map(closeRedisClient));
  }

  private createEchoServer(port: number, options?: Partial<ServerOptions>): Server {
    const { entries } = socketOrigins(this.config);
    const allowList = originAllowList(entries);
    const anyOrigin = entries.length === 0 || allowList.any;
    // socket.io 2's `origins` is no socket.io 4 option: it became the allow-list above.
    const socketio = { ...this.config.socketio };
    delete socketio.origins;
    const limiter = this.connectionLimiter();
    const server = super.createIOServer(port, {
      ...(options as ServerOptions),
      // A whisper's text travels in one packet: a raised limits.maxWhisperBytes raises the packet
      // size socket.io accepts with it (its 1 MB default stays otherwise; the socketio block wins).
      maxHttpBufferSize: Math.max(1e6, (this.limits?.config.maxWhisperBytes ?? 0) + 64 * 1024),
      // The 101 and the open packet in one write; the socketio block may name another engine.
      wsEngine: CorkedWebSocketServer,
      ...(socketio as Partial<ServerOptions>),
      allowEIO3: true,
      // Installed below for long-polling only (engine.io would run it on every upgrade too).
      cors: undefined,
      allowRequest: (req: IncomingMessage, callback: (err: string | null | undefined, ok: boolean) => void) => {
        // A stopping node takes no new clients, so reconnecting ones land on another node even
        // behind a balancer that has not yet seen readiness fail.
        if (this.draining()) return callback('Server is shutting down', false);
        const origin = req.headers.origin;
        // Non-browser clients send no Origin and carry no ambient cookies of a victim.
        const ok =
          anyOrigin ||
          origin === undefined ||
          allowList.allows(origin) ||
          (this.allowSameOrigin && isSameOrigin(origin, req.headers.host));
        if (!ok) return callback('Origin not allowed', false);
        if (!limiter) return callback(null, true);
        const refusal = limiter.admit(req);
        if (refusal === undefined) return callback(null, true);
        this.limits?.metrics.connectionsRefused.inc({ reason: refusal });
        refuseUnavailable(req, refusal);
        callback(`Too many connections (${refusal})`, false);
      },
    });
    limiter?.watch(server);
    server.engine.use(
      httpOnly(
        cors({
          origin: anyOrigin
            ? true
            : (origin: string | undefined, callback: (err: Error | null, allow?: boolean) => void) =>
                callback(null, origin !== undefined && allowList.allows(origin)),
          credentials: true,
        }),
      ),
    );
    return server;
  }

  /** Counts connections against `limits.maxConnections` / `maxConnectionsPerIp` when either is set. */
  private connectionLimiter(): HandshakeLimiter | undefined {
    const config = this.limits?.config;
    if (!config || (config.maxConnections === 0 && config.maxConnectionsPerIp === 0)) return undefined;
    const shared = this.limits?.connections;
    if (shared?.limiter) return new HandshakeLimiter(shared.limiter, shared.trustedProxies);
    return new HandshakeLimiter(
      new ConnectionLimiter(config.maxConnections, config.maxConnectionsPerIp),
      new Set(config.trustedProxies.map(normalizeIp)),
    );
  }

  /**
   * One plain listener per event and socket instead of Nest's rxjs pipeline per event and socket:
   * the same behaviour (Echo requests no acks) for a fraction of the memory per connection. Each
   * message reaches its handler in the order it arrived; what a handler does with that order
   * (subscribe after unsubscribe) is the handler's business (`ChannelSubscriptions`).
   */
  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    for (const { message, callback } of handlers) {
      socket.on(message as string, (...args: unknown[]) => {
        // fromEvent in Nest's version hands a lone argument over unwrapped; so do we.
        const mapped: { data: unknown; ack?: unknown } = this.mapPayload(args.length === 1 ? args[0] : args);
        const { data, ack } = mapped;
        void this.run(() => callback(data, ack), transform, ack as ((response: unknown) => void) | undefined);
      });
    }
  }

  private async run(
    handler: () => unknown,
    transform: (data: unknown) => Observable<unknown>,
    ack?: (response: unknown) => void,
  ): Promise<void> {
    try {
      const result = await handler();
      const response = isObservable(result)
        ? await lastValueFrom(transform(result), { defaultValue: undefined })
        : result;
      if (response !== undefined && response !== null && typeof ack === 'function') ack(response);
    } catch (err) {
      this.logger.error(err);
    }
  }
}

/**
 * Binds `ConnectionLimiter` slots to engine.io connections: a handshake takes its slot in
 * `allowRequest`, its engine.io connection (either transport, EIO3 or EIO4) gives it back on
 * `close`. Upgrades carry a `sid` and never reach `allowRequest`, so they are not counted again. A
 * handshake that never becomes a connection (the client went away, engine.io refused it later)
 * gives its slot back when its response or its TCP socket closes.
 */
class HandshakeLimiter {
  private readonly pending = new WeakMap<IncomingMessage, () => void>();

  constructor(
    private readonly limiter: ConnectionLimiter,
    private readonly trustedProxies: ReadonlySet<string>,
  ) {}

  /** Takes a slot for this handshake, or names the limit that refuses it. */
  admit(req: IncomingMessage): ConnectionRefusal | undefined {
    const address = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.trustedProxies);
    const slot = this.limiter.acquire(address);
    if ('refused' in slot) return slot.refused;
    this.pending.set(req, slot.release);
    const abandoned = (): void => {
      const release = this.pending.get(req);
      this.pending.delete(req);
      release?.();
    };
    const res = (req as IncomingMessage & { res?: ServerResponse }).res;
    if (res) res.once('close', abandoned);
    else req.socket.once('close', abandoned);
    return undefined;
  }

  /** Hands each new connection its handshake's slot, given back when the connection closes. */
  watch(server: Server): void {
    server.engine.on(
      'connection',
      (socket: { request: IncomingMessage; once(event: 'close', fn: () => void): void }) => {
        const release = this.pending.get(socket.request);
        if (!release) return;
        this.pending.delete(socket.request);
        socket.once('close', release);
      },
    );
  }
}

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * Runs `middleware` for HTTP requests (long-polling) only. Browsers apply no CORS to a WebSocket
 * handshake, and the `cors` package's work on every upgrade (headers nobody reads) was about 3 %
 * of the CPU of a connect + subscribe; what does guard upgrades is the origin check in
 * `allowRequest`.
 */
function httpOnly(middleware: Middleware): Middleware {
  return (req, res, next) => (res instanceof ServerResponse ? middleware(req, res, next) : next());
}

/**
 * Answers a refused handshake with 503 itself (engine.io's refusals are 400 or 403): the JSON body
 * engine.io uses on long-polling, a bare HTTP response on a WebSocket upgrade. engine.io's own
 * abort that follows finds the response sent and only closes.
 */
function refuseUnavailable(req: IncomingMessage, reason: ConnectionRefusal): void {
  const message = `Too many connections (${reason})`;
  const res = (req as IncomingMessage & { res?: ServerResponse }).res;
  if (res) {
    if (res.headersSent) return;
    res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '5' });
    res.end(JSON.stringify({ code: 503, message }));
    return;
  }
  const socket = req.socket;
  if (!socket.writable) return;
  socket.end(
    'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\nContent-Type: text/plain\r\n' +
      `Content-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`,
  );
}
