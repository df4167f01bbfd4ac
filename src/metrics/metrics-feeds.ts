import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { startDefaultMetrics, type DefaultMetrics } from '../internals/default-metrics.js';
import { LaravelRedisServer } from '../internals/laravel-redis.server.js';
import { channelOfRoom } from '../channels/channel-room.js';
import { channelType } from '../channels/channel-type.js';
import { SocketServer } from '../gateway/socket-server.js';
import { METRIC_PREFIX, RelayMetrics } from './relay-metrics.js';

/**
 * Feeds the metrics that no single code path owns: Node's process metrics, the Redis subscription
 * state (read at scrape time), and channel subscriptions by type, from the adapter's room
 * bookkeeping, which sees every join and leave (subscribe, unsubscribe, disconnect) exactly once.
 * The process metrics' collectors (a GC observer, an event-loop timer) stop when the app closes.
 */
@Injectable()
export class MetricsFeeds implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private defaultMetrics?: DefaultMetrics;

  constructor(
    private readonly metrics: RelayMetrics,
    private readonly subscriber: LaravelRedisServer,
    private readonly sockets: SocketServer,
  ) {}

  onModuleInit(): void {
    this.defaultMetrics = startDefaultMetrics(this.metrics.registry, METRIC_PREFIX);
    this.metrics.watchRedisSubscription(() => ({
      subscribed: this.subscriber.subscribed,
      live: this.subscriber.liveSubscriptions,
      duplicates: this.subscriber.duplicatesMerged,
    }));
  }

  /** The socket.io server exists from here on. */
  onApplicationBootstrap(): void {
    const rooms = this.sockets.localRooms;
    // Every connection also sits in a room named after its own id: that is no channel.
    rooms.on('join-room', (room: string) => {
      const channel = channelOfRoom(room);
      if (channel !== undefined) this.metrics.channelSubscriptions.inc(channelType(channel));
    });
    rooms.on('leave-room', (room: string) => {
      const channel = channelOfRoom(room);
      if (channel !== undefined) this.metrics.channelSubscriptions.dec(channelType(channel));
    });
  }

  /** Last of all: `/metrics` is served until the HTTP server has closed. */
  onApplicationShutdown(): void {
    this.defaultMetrics?.stop();
  }
}
