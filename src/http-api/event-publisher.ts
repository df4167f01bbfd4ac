import { Injectable } from '@nestjs/common';
import type { BroadcastDto } from '../broadcast/broadcast.dto.js';
import { PresenceDirectory } from '../channels/presence-directory.js';
import { BroadcastDelivery } from '../gateway/broadcast-delivery.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { RecoveryConfig } from '../recovery/recovery.config.js';
import { pendingEntry, RecoveryLog } from '../recovery/recovery-log.js';
import { ApiConfig } from './api.config.js';
import { DroppedMessage } from './dropped-message.js';
import { RedisUnavailable } from './redis-unavailable.js';

/**
 * Where events published over HTTP go, whichever API took them (laravel-echo-server's or Pusher's):
 * emitted through the socket.io adapter so that they reach every node; with recovery on, appended
 * to the history instead, from which every node delivers them with their offset.
 *
 * While Redis is unreachable the events are refused with 503 and delivered nowhere: the adapter
 * would reach this node's sockets only, silently, and a caller that retries would then deliver them
 * twice to those. (The presence store's connection stands for Redis: both talk to the same one.)
 */
@Injectable()
export class EventPublisher {
  constructor(
    private readonly delivery: BroadcastDelivery,
    private readonly metrics: RelayMetrics,
    private readonly config: ApiConfig,
    private readonly directory: PresenceDirectory,
    private readonly recovery: RecoveryConfig,
    private readonly history: RecoveryLog,
  ) {}

  /** Throws `DroppedMessage` (403) when publishing over HTTP is turned off; call before reading the body. */
  assertEnabled(): void {
    if (!this.config.publish) {
      throw new DroppedMessage('http_disabled', '', 'publishing over HTTP is disabled (subscribers.http: false)');
    }
  }

  /** Delivers validated broadcasts, all or none; `receivedAt` is `performance.now()` at the request's arrival. */
  async publish(broadcasts: BroadcastDto[], receivedAt: number): Promise<void> {
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
      return;
    }
    for (const broadcast of broadcasts) {
      this.metrics.messagesReceived.inc({ source: 'http' });
      this.delivery.deliverCluster(broadcast, receivedAt);
    }
  }
}
