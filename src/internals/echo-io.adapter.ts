/**
 * Written against @nestjs/platform-socket.io 12.1.1, socket.io 4.8.3 and ioredis 6.0.0 (see
 * WRITTEN_AGAINST in ./written-against.ts).
 *
 * Nest internals used: `IoAdapter#createIOServer(port, options)` (builds the socket.io server on
 * Nest's HTTP server), `IoAdapter#close`, `IoAdapter#bindMessageHandlers(socket, handlers,
 * transform)` replaced with plain listeners, `AbstractWsAdapter#mapPayload` (splits an ack off the
 * arguments) and its protected `logger`.
 *
 * Contract: ./echo-io.adapter.contract.test.ts.
 */
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';
import type { RedisConfig } from '../redis/redis.config.js';
import type { ServerConfig } from '../server/server.config.js';
import { closeRedisClient, connectRedis } from '../redis/redis-client.js';
import { ADAPTER_PUB_COMMANDS, ADAPTER_SUB_COMMANDS, createGuardedAdapter } from './guarded-redis-adapter.js';
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
    server.adapter(createGuardedAdapter(pub, sub));
    return server;
  }

  /** Closes the server, then the adapter's Redis connections. */
  override async close(server: Server): Promise<void> {
    await super.close(server);
    await Promise.all(this.redisClients.splice(0).map(closeRedisClient));
  }

  private createEchoServer(port: number, options?: Partial<ServerOptions>): Server {
    const origins = this.config.allowedOrigins;
    const anyOrigin = origins.length === 0 || origins.includes('*');
    return super.createIOServer(port, {
      ...(options as ServerOptions),
      ...(this.config.socketio as Partial<ServerOptions>),
      allowEIO3: true,
      cors: { origin: anyOrigin ? true : origins, credentials: true },
      allowRequest: (req: IncomingMessage, callback: (err: string | null | undefined, ok: boolean) => void) => {
        // A stopping node takes no new clients, so reconnecting ones land on another node even
        // behind a balancer that has not yet seen readiness fail.
        if (this.draining()) return callback('Server is shutting down', false);
        const origin = req.headers.origin;
        // Non-browser clients send no Origin and carry no ambient cookies of a victim.
        const ok = anyOrigin || origin === undefined || origins.includes(origin);
        callback(ok ? null : 'Origin not allowed', ok);
      },
    });
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
