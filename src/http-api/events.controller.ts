import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiConfig } from './api.config.js';
import { PresenceDirectory } from '../channels/presence-directory.js';
import { BroadcastDelivery } from '../gateway/broadcast-delivery.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { DroppedMessage } from './dropped-message.js';
import { parsePublishRequest, toBroadcasts } from './publish-request.js';
import { RedisUnavailable } from './redis-unavailable.js';
import { RecoveryConfig } from '../recovery/recovery.config.js';
import { pendingEntry, RecoveryLog } from '../recovery/recovery-log.js';

/**
 * `POST /apps/:appId/events`: an event published over HTTP, validated like Laravel's messages from
 * Redis and emitted through the socket.io adapter so that it reaches every node; with recovery on,
 * appended to the history instead, from which every node delivers it with its offset. Refusals are
 * thrown as `DroppedMessage`; `ApiErrorFilter` answers and counts them.
 *
 * While Redis is unreachable the event is refused with 503 and delivered nowhere: the adapter
 * would reach this node's sockets only, silently, and a caller that retries would then deliver it
 * twice to those. (The presence store's connection stands for Redis: both talk to the same one.)
 */
@Controller('apps/:appId/events')
@UseGuards(ApiKeyGuard)
export class EventsController {
  constructor(
    private readonly delivery: BroadcastDelivery,
    private readonly metrics: RelayMetrics,
    private readonly config: ApiConfig,
    private readonly directory: PresenceDirectory,
    private readonly recovery: RecoveryConfig,
    private readonly history: RecoveryLog,
  ) {}

  @Post()
  @HttpCode(200)
  async publish(@Body() body: unknown): Promise<{ message: 'ok' }> {
    const receivedAt = performance.now();
    if (!this.config.publish) {
      throw new DroppedMessage('http_disabled', '', 'publishing over HTTP is disabled (subscribers.http: false)');
    }
    const broadcasts = toBroadcasts(parsePublishRequest(body));
    if (!this.directory.connected) {
      throw new RedisUnavailable('Redis is unreachable; the event cannot reach the other nodes and was not sent');
    }
    if (this.recovery.enabled) {
      this.metrics.messagesReceived.inc({ source: 'http' }, broadcasts.length);
      const entries = broadcasts.map((b) => pendingEntry(b, { o: this.history.node, t: receivedAt }));
      try {
        await this.history.append(entries);
      } catch (err) {
        throw new RedisUnavailable(
          `The event could not be added to the history and was not sent: ${(err as Error).message}`,
        );
      }
      return { message: 'ok' };
    }
    for (const broadcast of broadcasts) {
      this.metrics.messagesReceived.inc({ source: 'http' });
      this.delivery.deliverCluster(broadcast, receivedAt);
    }
    return { message: 'ok' };
  }
}
