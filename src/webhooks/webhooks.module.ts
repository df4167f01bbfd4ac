import { Module } from '@nestjs/common';
import { ClientEvents } from './client-events.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { WebhookQueue } from './webhook-queue.js';

/**
 * Webhooks to the Laravel app. The events themselves are decided where the facts are: the
 * presence scripts queue occupancy and member events, `ClientEvents` (for the whisper path) queues
 * client events; this module holds the queue in Redis and the dispatcher that sends it.
 */
@Module({
  providers: [WebhookQueue, WebhookDispatcher, ClientEvents],
  exports: [ClientEvents],
})
export class WebhooksModule {}
