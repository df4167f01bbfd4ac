import { Inject, Logger, UseFilters, UseGuards } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { ChannelAuthGuard } from '../auth/channel-auth.guard.js';
import { ChannelMembership } from '../channels/channel-membership.js';
import { PresenceService } from '../channels/presence.service.js';
import { WhisperService } from '../channels/whisper.service.js';
import { LogConfig } from '../config/relay-config.js';
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
export class EchoGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly log = new Logger('Gateway');
  private readonly verbose: boolean;
  /** Where the rest of the app finds the socket.io server once it exists. */
  @Inject(SocketServer) private readonly socketServer!: SocketServer;

  constructor(
    private readonly metrics: RelayMetrics,
    private readonly membership: ChannelMembership,
    private readonly presence: PresenceService,
    private readonly whispers: WhisperService,
    logConfig: LogConfig,
  ) {
    this.verbose = logConfig.devMode || logConfig.level === 'debug';
  }

  afterInit(server: Server): void {
    this.socketServer.attach(server);
  }

  handleConnection(socket: Socket): void {
    this.metrics.connections.inc({ eio: protocolOf(socket) });
    if (this.verbose) this.log.debug(`${socket.id} connected (EIO ${protocolOf(socket)})`);
  }

  handleDisconnect(socket: Socket): void {
    this.metrics.connections.dec({ eio: protocolOf(socket) });
    if (this.verbose) this.log.debug(`${socket.id} disconnected`);
    void this.membership.leaveAll(socket);
  }

  /**
   * Private and presence channels pass the auth guard first. Joining twice is harmless: Echo
   * subscribes again for every channel after a reconnect.
   */
  @SubscribeMessage('subscribe')
  @UseGuards(ChannelAuthGuard)
  async subscribe(
    @ConnectedSocket() socket: Socket,
    @MessageBody(ChannelRequestPipe) request: ChannelRequest,
  ): Promise<void> {
    const joined = await this.membership.join(socket, request.channel);
    if (joined && this.verbose) this.log.debug(`${socket.id} joined ${request.channel}`);
  }

  @SubscribeMessage('unsubscribe')
  async unsubscribe(
    @ConnectedSocket() socket: Socket,
    @MessageBody(ChannelRequestPipe) request: ChannelRequest,
  ): Promise<void> {
    await this.membership.leave(socket, request.channel);
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
