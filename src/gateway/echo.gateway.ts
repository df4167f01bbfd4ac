import { Logger, UseFilters, UseGuards } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
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
import type { BroadcastDto } from '../broadcast/broadcast.dto.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { ChannelRequestPipe, type ChannelRequest } from './channel-request.pipe.js';
import { LocalRoomEmitter } from '../internals/local-room-emitter.js';
import { WsErrorFilter } from './ws-error.filter.js';

/** Where a broadcast is emitted: this node's sockets, or every node's through the adapter. */
export type DeliveryScope = 'local' | 'cluster';

/**
 * The socket.io side of Laravel Echo's protocol: sockets join rooms named after channels, and
 * broadcasts are emitted as `(event, channel, data)` to those rooms.
 */
@WebSocketGateway()
@UseFilters(WsErrorFilter)
export class EchoGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  @WebSocketServer() private readonly server!: Server;
  private readonly log = new Logger('Gateway');
  private readonly verbose: boolean;
  private roomEmitter!: LocalRoomEmitter;

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
    this.roomEmitter = new LocalRoomEmitter(server);
    this.presence.bind(server);
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

  /** Every client connection of this node, for a graceful drain. */
  localConnections(): { close(): void }[] {
    return [...this.server.sockets.sockets.values()].map((socket) => socket.conn);
  }

  /** Sockets of this node in a channel's room. */
  localSubscriberCount(channel: string): number {
    return this.server.sockets.adapter.rooms.get(channel)?.size ?? 0;
  }

  /**
   * Emits a broadcast to the sockets in the channel's room, minus the sender's socket.
   * `local` (Redis-sourced): with several nodes every node receives every Laravel message from
   * Redis, so each emits to its own sockets only (encoded and framed once, see `LocalRoomEmitter`);
   * otherwise clients would get one copy per node.
   * `cluster` (HTTP API): only the node that took the request has the message, so it emits
   * through the socket.io adapter, which reaches the rooms on every node.
   * `receivedAt` (`performance.now()` when the message arrived) feeds the ingest-to-emit histogram.
   * Returns how many sockets of this node it reached.
   */
  deliver(broadcast: BroadcastDto, { scope, receivedAt }: { scope: DeliveryScope; receivedAt?: number }): number {
    const except = broadcast.socket ?? undefined;
    let recipients: number;
    if (scope === 'local') {
      recipients = this.roomEmitter.emit(broadcast.channel, except, broadcast.event, broadcast.channel, broadcast.data);
      if (recipients === 0) return 0;
    } else {
      const room = this.server.sockets.adapter.rooms.get(broadcast.channel);
      const target = this.server.to(broadcast.channel);
      (except ? target.except(except) : target).emit(broadcast.event, broadcast.channel, broadcast.data);
      recipients = room ? room.size - (except && room.has(except) ? 1 : 0) : 0;
    }
    if (recipients > 0) this.metrics.deliveries.inc(recipients);
    if (receivedAt !== undefined) this.metrics.ingestToEmit.observe((performance.now() - receivedAt) / 1000);
    return recipients;
  }

  /** `deliver(broadcast, { scope: 'local' })`. */
  deliverLocal(broadcast: BroadcastDto): number {
    return this.deliver(broadcast, { scope: 'local' });
  }

  /**
   * Sockets of the whole cluster, optionally only those in one channel's room. Asks every node
   * through the socket.io adapter (the Redis adapter included), so counts are cluster-wide.
   */
  clusterSockets(channel?: string): ReturnType<Server['fetchSockets']> {
    return channel ? this.server.in(channel).fetchSockets() : this.server.fetchSockets();
  }

  /** This node's room bookkeeping; its `join-room` / `leave-room` events feed the subscriptions gauge. */
  get localRooms(): Server['sockets']['adapter'] {
    return this.server.sockets.adapter;
  }
}

function protocolOf(socket: Socket): string {
  return String(socket.conn.protocol);
}
