import { Injectable } from '@nestjs/common';
import type { BroadcastDto } from '../broadcast/broadcast.dto.js';
import { channelRoom } from '../channels/channel-room.js';
import { exceptedConnection } from '../internals/connection-ids.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { LocalRoomEmitter, type OutgoingObserver } from '../internals/local-room-emitter.js';
import { SlowConsumers } from './slow-consumers.js';
import { SocketServer } from './socket-server.js';
import { ChannelCache } from '../pusher/channel-cache.js';
import { PusherHub } from '../pusher/pusher-hub.js';

/**
 * Emits validated broadcasts as `(event, channel, data)` to the sockets in the channel's room,
 * minus the socket named in `socket` (`toOthers`). Two methods, because where a message came
 * from decides which nodes must emit it. Both return how many sockets of this node they reached,
 * count those deliveries, and feed the ingest-to-emit histogram from `receivedAt`
 * (`performance.now()` when the message arrived).
 *
 * Kept apart from the gateway, which answers what clients send: delivery needs only the server
 * and the metrics, so the Redis and HTTP ingest paths do not depend on auth and channels.
 */
@Injectable()
export class BroadcastDelivery {
  private roomEmitter?: LocalRoomEmitter;
  private observer?: OutgoingObserver;

  constructor(
    private readonly sockets: SocketServer,
    private readonly metrics: RelayMetrics,
    private readonly slowConsumers: SlowConsumers,
    private readonly pusher: PusherHub,
    private readonly cache: ChannelCache,
  ) {}

  /**
   * A broadcast from Redis. Every node receives every Laravel message from Redis, so each emits to
   * its own sockets only (`server.local`, encoded and framed once, see `LocalRoomEmitter`);
   * through the adapter, clients would get one copy per node. A socket the write leaves holding
   * more than `limits.maxBufferedBytes` is disconnected (`SlowConsumers`).
   *
   * `offset`, the broadcast's id in the recovery history, goes to Engine.IO 4 sockets as a last
   * argument, `(event, channel, data, offset)`, for socket.io-client to reconnect from. Pusher
   * connections of the channel get it from `PusherHub` (their `socket_id` excludes them as well).
   *
   * A cache channel's event is cached by every node that delivers it (`ChannelCache`): no node
   * knows whether another did, and each node writes its events in order, so the last write
   * everywhere is the channel's last event.
   */
  deliverLocal(broadcast: BroadcastDto, receivedAt?: number, offset?: string): number {
    this.roomEmitter ??= this.createRoomEmitter();
    const { channel, event, data, socket } = broadcast;
    this.cache.remember(channel, event, data);
    const except = socket ?? undefined;
    const recipients =
      this.roomEmitter.emit(channelRoom(channel), except, event, [channel, data], offset) +
      this.pusher.deliver(channel, except, event, data);
    return recipients === 0 ? 0 : this.count(recipients, receivedAt);
  }

  /**
   * An event published over the HTTP API. Only the node that took the request has it, so it is
   * emitted through the socket.io adapter, which reaches the room on every node (its Pusher
   * connections included, through the adapter's tap: see `PusherHub`). Each node checks
   * the packets engine.io queues for its sockets against `limits.maxBufferedBytes` (`SlowConsumers`).
   */
  deliverCluster(broadcast: BroadcastDto, receivedAt?: number): number {
    const server = this.sockets.io;
    const { channel, event, data } = broadcast;
    // Cached before the emit goes out, so that a subscriber the emit misses finds it in the cache.
    this.cache.remember(channel, event, data);
    const except = exceptedConnection(broadcast.socket);
    const room = channelRoom(channel);
    const members = server.sockets.adapter.rooms.get(room);
    const target = server.to(room);
    (except ? target.except(except) : target).emit(event, channel, data);
    const recipients = members ? members.size - (except && members.has(except) ? 1 : 0) : 0;
    return this.count(recipients, receivedAt);
  }

  /**
   * Reports what `deliverLocal` writes past socket.io's emit (which outgoing-packet listeners and
   * the Admin UI would otherwise never see); `deliverCluster` goes through socket.io and needs none.
   */
  observeLocalDeliveries(observer: OutgoingObserver): void {
    this.observer = observer;
    this.roomEmitter?.observe(observer);
  }

  private createRoomEmitter(): LocalRoomEmitter {
    const emitter = new LocalRoomEmitter(this.sockets.io, this.slowConsumers);
    if (this.observer) emitter.observe(this.observer);
    return emitter;
  }

  private count(recipients: number, receivedAt: number | undefined): number {
    if (recipients > 0) this.metrics.deliveries.inc(recipients);
    if (receivedAt !== undefined) this.metrics.ingestToEmit.observe((performance.now() - receivedAt) / 1000);
    return recipients;
  }
}
