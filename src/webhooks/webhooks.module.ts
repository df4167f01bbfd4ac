import { Module } from '@nestjs/common';
import { CacheMisses } from './cache-misses.js';
import { ClientEvents } from './client-events.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { WebhookQueue } from './webhook-queue.js';

/**
 * Webhooks to the Laravel app. The events themselves are decided where the facts are: the
 * presence scripts queue occupancy and member events, `ClientEvents` (for the whisper path) client
 * events, `CacheMisses` (for the Pusher subscribe path) cache misses; this module holds the queue
 * in Redis and the dispatcher that sends it.
 */
@Module({
  providers: [WebhookQueue, WebhookDispatcher, ClientEvents, CacheMisses],
  exports: [ClientEvents, CacheMisses],
})
export class WebhooksModule {}
