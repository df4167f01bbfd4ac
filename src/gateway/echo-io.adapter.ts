import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';
import type { ServerConfig } from '../config/relay-config.js';

/**
 * socket.io server as laravel-echo-server users expect it (path `/socket.io`, Engine.IO 3 clients
 * from socket.io-client 2 accepted) plus an origin allow-list enforced on the handshake of both
 * transports: browsers apply no CORS to WebSockets, so without it any site could open a socket
 * with the user's cookies.
 */
export class EchoIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly config: ServerConfig,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: Partial<ServerOptions>): Server {
    const origins = this.config.allowedOrigins;
    const anyOrigin = origins.length === 0 || origins.includes('*');
    return super.createIOServer(port, {
      ...(options as ServerOptions),
      ...(this.config.socketio as Partial<ServerOptions>),
      allowEIO3: true,
      cors: { origin: anyOrigin ? true : origins, credentials: true },
      allowRequest: (req: IncomingMessage, callback: (err: string | null | undefined, ok: boolean) => void) => {
        const origin = req.headers.origin;
        // Non-browser clients send no Origin and carry no ambient cookies of a victim.
        const ok = anyOrigin || origin === undefined || origins.includes(origin);
        callback(ok ? null : 'Origin not allowed', ok);
      },
    });
  }

  /**
   * One plain listener per event and socket instead of Nest's rxjs pipeline per event and socket:
   * the same behaviour (Echo requests no acks) for a fraction of the memory per connection.
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
