import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from './api-key.guard.js';
import { ECHO_API } from './api-versions.js';
import { EventPublisher } from './event-publisher.js';
import { parsePublishRequest, toBroadcasts } from './publish-request.js';

/**
 * `POST /apps/:appId/events`: an event published over HTTP, validated like Laravel's messages from
 * Redis and handed to `EventPublisher`, which reaches every node. Refusals are thrown as
 * `DroppedMessage`; `ApiErrorFilter` answers and counts them.
 */
@Controller({ path: 'apps/:appId/events', version: ECHO_API })
@UseGuards(ApiKeyGuard)
export class EventsController {
  constructor(private readonly publisher: EventPublisher) {}

  @Post()
  @HttpCode(200)
  async publish(@Body() body: unknown): Promise<{ message: 'ok' }> {
    const receivedAt = performance.now();
    this.publisher.assertEnabled();
    await this.publisher.publish(toBroadcasts(parsePublishRequest(body)), receivedAt);
    return { message: 'ok' };
  }
}
