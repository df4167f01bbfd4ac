import { Module } from '@nestjs/common';
import { BroadcastModule } from '../broadcast/broadcast.module.js';
import { SocketServerModule } from '../gateway/socket-server.module.js';
import { MetricsFeeds } from './metrics-feeds.js';
import { MetricsController } from './metrics.controller.js';

/** `GET /metrics` and the feeds behind the gauges; the counters themselves live in `RelayMetrics`. */
@Module({
  imports: [SocketServerModule, BroadcastModule],
  controllers: [MetricsController],
  providers: [MetricsFeeds],
})
export class MetricsEndpointModule {}
