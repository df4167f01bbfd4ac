import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { BroadcastConfig } from '../broadcast/broadcast.config.js';
import { PUSHER_API } from '../http-api/api-versions.js';
import { EventPublisher } from '../http-api/event-publisher.js';
import { PusherChannels, type PusherChannelInfo } from './pusher-channels.service.js';
import { parsePusherBatch, parsePusherEvent, type PusherEvent } from './pusher-events.js';
import { PusherSignatureGuard } from './pusher-signature.guard.js';

/**
 * Pusher's `POST /apps/:appId/events` and `/batch_events`, signed: the events go through the same
 * validation and the same `EventPublisher` as the old API's, so socket.io clients on every node
 * receive them, minus `socket_id`. A request is delivered whole or not at all. Refusals are
 * thrown as `DroppedMessage` and counted by `ApiErrorFilter`.
 */
@Controller({ path: 'apps/:appId', version: PUSHER_API })
@UseGuards(PusherSignatureGuard)
export class PusherEventsController {
  constructor(
    private readonly publisher: EventPublisher,
    private readonly channels: PusherChannels,
    private readonly broadcast: BroadcastConfig,
  ) {}

  /** Answers `{}`, or `{channels: {name: {...}}}` with the counts `info` asked for. */
  @Post('events')
  @HttpCode(200)
  async trigger(@Body() body: unknown): Promise<{ channels?: Record<string, PusherChannelInfo> }> {
    const receivedAt = performance.now();
    this.publisher.assertEnabled();
    const event = parsePusherEvent(body, this.broadcast.maxMessageBytes);
    await this.publisher.publish(event.broadcasts, receivedAt);
    if (event.info.length === 0) return {};
    return { channels: Object.fromEntries(await this.infoOf(event)) };
  }

  /** Answers `{}`, or `{batch: [{...}, ...]}` (one entry per event) when any asked for `info`. */
  @Post('batch_events')
  @HttpCode(200)
  async triggerBatch(@Body() body: unknown): Promise<{ batch?: PusherChannelInfo[] }> {
    const receivedAt = performance.now();
    this.publisher.assertEnabled();
    const events = parsePusherBatch(body, this.broadcast.maxMessageBytes);
    await this.publisher.publish(
      events.flatMap((e) => e.broadcasts),
      receivedAt,
    );
    if (events.every((e) => e.info.length === 0)) return {};
    return { batch: await Promise.all(events.map((e) => this.batchInfo(e))) };
  }

  /** Per channel of the event, the counts `info` asked for. */
  private infoOf(event: PusherEvent): Promise<[string, PusherChannelInfo][]> {
    return Promise.all(
      event.broadcasts.map(async (b): Promise<[string, PusherChannelInfo]> => [
        b.channel,
        await this.channels.published(b.channel, event.info),
      ]),
    );
  }

  /** A batch event names one channel: its counts, or `{}` when it asked for none. */
  private async batchInfo(event: PusherEvent): Promise<PusherChannelInfo> {
    if (event.info.length === 0) return {};
    return this.channels.published(event.broadcasts[0].channel, event.info);
  }
}
