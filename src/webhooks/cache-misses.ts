import { Injectable, Logger } from '@nestjs/common';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { WebhookQueue } from './webhook-queue.js';
import { anyTargetWants } from './webhook-targets.js';
import { WebhooksConfig } from './webhooks.config.js';

/**
 * A channel's `cache_miss` is queued at most once in this long, whichever node and however many
 * subscribers: Pusher de-duplicates it too, so that a crowd arriving on an empty cache channel
 * asks the app once to publish its state.
 */
export const CACHE_MISS_WEBHOOK_WINDOW_MS = 10_000;

/**
 * Queues a `cache_miss` webhook when a Pusher client subscribes to a cache channel that has
 * nothing cached, when a receiver wants them. Not awaited, as `ClientEvents`: a Redis that is away
 * costs a counted, logged drop, never a stalled subscribe.
 */
@Injectable()
export class CacheMisses {
  private readonly log = new Logger('Webhooks');
  private readonly throttled = new ThrottledLog(this.log, 30_000);
  /** Whether any receiver wants `cache_miss`: without one a miss costs nothing here. */
  readonly wanted: boolean;

  constructor(
    config: WebhooksConfig,
    private readonly queue: WebhookQueue,
    private readonly metrics: RelayMetrics,
  ) {
    this.wanted = anyTargetWants(config, ['cache_miss']);
  }

  missed(channel: string): void {
    if (!this.wanted) return;
    const event = { name: 'cache_miss' as const, channel, at: Date.now() };
    this.queue.pushOnce(event, `cache_miss:${channel}`, CACHE_MISS_WEBHOOK_WINDOW_MS).catch((err: Error) => {
      this.metrics.webhookEvents.inc({ result: 'dropped' });
      this.throttled.warn('cache_miss', `cache_miss webhook dropped: ${err.message}`);
    });
  }
}
