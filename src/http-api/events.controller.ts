import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiConfig } from './api.config.js';
import { BroadcastDelivery } from '../gateway/broadcast-delivery.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { DroppedMessage } from './dropped-message.js';
import { parsePublishRequest, toBroadcasts } from './publish-request.js';

/**
 * `POST /apps/:appId/events`: an event published over HTTP, validated like Laravel's messages from
 * Redis and emitted through the socket.io adapter so that it reaches every node. Refusals are
 * thrown as `DroppedMessage`; `ApiErrorFilter` answers and counts them.
 */
@Controller('apps/:appId/events')
@UseGuards(ApiKeyGuard)
export class EventsController {
  constructor(
    private readonly delivery: BroadcastDelivery,
    private readonly metrics: RelayMetrics,
    private readonly config: ApiConfig,
  ) {}

  @Post()
  @HttpCode(200)
  publish(@Body() body: unknown): { message: 'ok' } {
    const receivedAt = performance.now();
    if (!this.config.publish) {
      throw new DroppedMessage('http_disabled', '', 'publishing over HTTP is disabled (subscribers.http: false)');
    }
    const broadcasts = toBroadcasts(parsePublishRequest(body));
    for (const broadcast of broadcasts) {
      this.metrics.messagesReceived.inc({ source: 'http' });
      this.delivery.deliverCluster(broadcast, receivedAt);
    }
    return { message: 'ok' };
  }
}
