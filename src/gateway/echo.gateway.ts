import { Logger } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayInit } from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { ChannelSubscriptions } from '../channels/channel-subscriptions.js';
import { WhisperService } from '../channels/whisper.service.js';
import { LogConfig } from '../logging/log.config.js';
import { RecoverySessions } from '../recovery/recovery-sessions.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { ChannelRequestPipe, type ChannelRequest } from './channel-request.pipe.js';
import { SocketServer } from './socket-server.js';
import { WsErrorFilter } from './ws-error.filter.js';

/** The messages Laravel Echo sends on a socket.io socket. */
type EchoMessage = 'subscribe' | 'unsubscribe' | 'client event';

/**
 * The socket.io side of Laravel Echo's protocol: sockets join the rooms of channels (`channelRoom`,
 * where `BroadcastDelivery` emits broadcasts to them), leave them, and whisper.
 */
@WebSocketGateway()
export class EchoGateway implements OnGatewayInit {
  private readonly log = new Logger('Gateway');
  private readonly verbose: boolean;
  private readonly requests = new ChannelRequestPipe();

  constructor(
    private readonly metrics: RelayMetrics,
    private readonly subscriptions: ChannelSubscriptions,
    private readonly whispers: WhisperService,
    /** Where the rest of the app finds the socket.io server once it exists. */
    private readonly socketServer: SocketServer,
    private readonly sessions: RecoverySessions,
    /** What the client is told of an error (`subscription_error`), and what is logged and counted. */
    private readonly errors: WsErrorFilter,
    logConfig: LogConfig,
  ) {
    this.verbose = logConfig.devMode || logConfig.level === 'debug';
  }

  /**
   * Connections and disconnections are taken from socket.io directly rather than through Nest's
   * `handleConnection`/`handleDisconnect`, which pass each one through an rxjs Subject and give
   * every socket an rxjs subscription for its disconnect: a cost on every connect of a
   * reconnect storm that plain listeners do not have. Both run in the tick the socket connects,
   * before any of its messages.
   *
   * Echo's three messages, likewise, reach the gateway through one listener each, shared by every
   * socket (socket.io calls it with the socket as `this`), not through `@SubscribeMessage`: Nest
   * binds three handlers per socket and runs every message through its pipe, guard and
   * interceptor chain, some 5 KB of promises and closures per message, on every subscribe of a
   * reconnect storm. The pipe and the filter are the same (`ChannelRequestPipe`, `WsErrorFilter`),
   * called directly, and each message reaches its handler in the tick it arrives, in order.
   */
  afterInit(server: Server): void {
    this.socketServer.attach(server);
    this.sessions.attach(server);
    const listeners = messageListeners(this);
    // Shared by every socket too: socket.io emits 'disconnect' once per socket, with it as `this`.
    const disconnected = disconnectListener(this);
    server.on('connection', (socket: Socket) => {
      this.connected(socket);
      for (const [message, listener] of listeners) socket.on(message, listener);
      socket.on('disconnect', disconnected);
    });
  }

  /** One message from a socket, with its arguments: parsed, handled, an error through `WsErrorFilter`. */
  receive(socket: Socket, message: EchoMessage, args: unknown[]): void {
    const body = bodyOf(args);
    try {
      if (message === 'client event') {
        this.whisper(socket, body);
        return;
      }
      const request = this.requests.transform(body, { type: 'body', data: message });
      const handled = message === 'subscribe' ? this.subscribe(socket, request) : this.unsubscribe(socket, request);
      handled.catch((err: unknown) => this.errors.report(socket, err));
    } catch (err) {
      this.errors.report(socket, err);
    }
  }

  connected(socket: Socket): void {
    this.metrics.openConnections.inc(protocolOf(socket));
    if (this.verbose) this.log.debug(`${socket.id} connected (EIO ${protocolOf(socket)})`);
    const restored = this.sessions.takeRestored(socket);
    if (restored) {
      if (this.verbose) this.log.debug(`${socket.id} recovered ${restored.channels.length} channel(s)`);
      void this.subscriptions.adopt(socket, restored);
    }
  }

  disconnected(socket: Socket, reason = ''): void {
    this.metrics.openConnections.dec(protocolOf(socket));
    if (this.verbose) this.log.debug(`${socket.id} disconnected`);
    void this.subscriptions.leaveAll(socket, reason);
  }

  /**
   * Joins the channel, for private and presence channels once the app said yes (`ChannelSubscriptions`
   * owns the whole path). Subscribing twice is harmless: Echo subscribes again for every channel
   * after a reconnect. `subscribe` and `unsubscribe` reach `ChannelSubscriptions` in the tick their
   * message arrives, so in the order the client sent them.
   */
  async subscribe(socket: Socket, request: ChannelRequest): Promise<void> {
    const joined = await this.subscriptions.subscribe(socket, request);
    if (joined && this.verbose) this.log.debug(`${socket.id} joined ${request.channel}`);
  }

  async unsubscribe(socket: Socket, request: ChannelRequest): Promise<void> {
    await this.subscriptions.unsubscribe(socket, request.channel);
    if (this.verbose) this.log.debug(`${socket.id} left ${request.channel}`);
  }

  /** A whisper: relayed to the channel's other members, or dropped and counted. */
  whisper(socket: Socket, body: unknown): void {
    this.whispers.relay(socket, body);
  }
}

/**
 * The listener of each Echo message, one for every socket: socket.io calls it with the socket as
 * `this` and the message's arguments.
 */
function messageListeners(gateway: EchoGateway): [EchoMessage, (this: Socket, ...args: unknown[]) => void][] {
  return (['subscribe', 'unsubscribe', 'client event'] as const).map((message) => [
    message,
    function (this: Socket, ...args: unknown[]): void {
      gateway.receive(this, message, args);
    },
  ]);
}

function disconnectListener(gateway: EchoGateway): (this: Socket, reason: string) => void {
  return function (this: Socket, reason: string): void {
    gateway.disconnected(this, reason);
  };
}

/**
 * A message's body as Nest's socket.io adapter makes it (`mapPayload`): a trailing
 * acknowledgement callback, which Echo never asks for, is set aside (and not called); one
 * argument is the body; several make an array, which no handler accepts.
 */
function bodyOf(args: unknown[]): unknown {
  const count = typeof args[args.length - 1] === 'function' ? args.length - 1 : args.length;
  return count === 1 ? args[0] : args.slice(0, count);
}

function protocolOf(socket: Socket): string {
  return String(socket.conn.protocol);
}
