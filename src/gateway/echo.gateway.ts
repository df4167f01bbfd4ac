import { Logger, UseFilters } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { ChannelSubscriptions } from '../channels/channel-subscriptions.js';
import { WhisperService } from '../channels/whisper.service.js';
import { LogConfig } from '../logging/log.config.js';
import { RecoverySessions } from '../recovery/recovery-sessions.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { ChannelRequestPipe, type ChannelRequest } from './channel-request.pipe.js';
import { SocketServer } from './socket-server.js';
import { WsErrorFilter } from './ws-error.filter.js';

/**
 * The socket.io side of Laravel Echo's protocol: sockets join rooms named after channels (where
 * `BroadcastDelivery` emits broadcasts to them), leave them, and whisper.
 */
@WebSocketGateway()
@UseFilters(WsErrorFilter)
export class EchoGateway implements OnGatewayInit {
  private readonly log = new Logger('Gateway');
  private readonly verbose: boolean;

  constructor(
    private readonly metrics: RelayMetrics,
    private readonly subscriptions: ChannelSubscriptions,
    private readonly whispers: WhisperService,
    /** Where the rest of the app finds the socket.io server once it exists. */
    private readonly socketServer: SocketServer,
    private readonly sessions: RecoverySessions,
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
   */
  afterInit(server: Server): void {
    this.socketServer.attach(server);
    this.sessions.attach(server);
    server.on('connection', (socket: Socket) => {
      this.connected(socket);
      socket.once('disconnect', (reason: string) => this.disconnected(socket, reason));
    });
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
   * after a reconnect. `subscribe` and `unsubscribe` keep the same pipeline (this pipe, no guard
   * on one only) so that they reach `ChannelSubscriptions` in the order the client sent them.
   */
  @SubscribeMessage('subscribe')
  async subscribe(
    @ConnectedSocket() socket: Socket,
    @MessageBody(ChannelRequestPipe) request: ChannelRequest,
  ): Promise<void> {
    const joined = await this.subscriptions.subscribe(socket, request);
    if (joined && this.verbose) this.log.debug(`${socket.id} joined ${request.channel}`);
  }

  @SubscribeMessage('unsubscribe')
  async unsubscribe(
    @ConnectedSocket() socket: Socket,
    @MessageBody(ChannelRequestPipe) request: ChannelRequest,
  ): Promise<void> {
    await this.subscriptions.unsubscribe(socket, request.channel);
    if (this.verbose) this.log.debug(`${socket.id} left ${request.channel}`);
  }

  /** A whisper: relayed to the channel's other members, or dropped and counted. */
  @SubscribeMessage('client event')
  whisper(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): void {
    this.whispers.relay(socket, body);
  }
}

function protocolOf(socket: Socket): string {
  return String(socket.conn.protocol);
}
