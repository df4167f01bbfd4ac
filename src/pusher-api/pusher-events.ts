import type { BroadcastDto } from '../broadcast/broadcast.dto.js';
import type { DropReason } from '../broadcast/ingest-result.js';
import { socketIoData, validateWithStringData } from '../broadcast/string-data.js';
import { isPlainObject } from '../common/plain-object.js';
import { DroppedMessage } from '../http-api/dropped-message.js';
import { channelsOf } from '../http-api/publish-request.js';
import { attributesOf, type ChannelAttribute } from './pusher-channels.service.js';

/** Most events in one `POST /batch_events` (Pusher's limit). */
export const MAX_BATCH_EVENTS = 10;
/** Longest event name (Pusher's limit, and `BroadcastDto`'s). */
export const MAX_EVENT_NAME_LENGTH = 200;

/** One event of `POST /events` or `/batch_events`: a broadcast per channel, and what `info` asked. */
export interface PusherEvent {
  broadcasts: BroadcastDto[];
  info: ChannelAttribute[];
}

/** `{name, data, channels | channel, socket_id?, info?}`; throws `DroppedMessage` naming the problem. */
export function parsePusherEvent(body: unknown, maxDataBytes: number): PusherEvent {
  if (!isPlainObject(body)) throw refused('not_an_object', 'request body must be a JSON object');
  return toEvent(body, channelsOf(body), maxDataBytes);
}

/** `{batch: [{name, data, channel, socket_id?, info?}, ...]}`, at most 10; validated whole before any is sent. */
export function parsePusherBatch(body: unknown, maxDataBytes: number): PusherEvent[] {
  if (!isPlainObject(body) || !Array.isArray(body.batch)) {
    throw refused('not_an_object', 'request body must be a JSON object with a "batch" array');
  }
  const { batch } = body;
  if (batch.length === 0 || batch.length > MAX_BATCH_EVENTS) {
    throw refused('invalid_event', `"batch" must hold 1 to ${MAX_BATCH_EVENTS} events, not ${batch.length}`);
  }
  return batch.map((event, i) => {
    if (!isPlainObject(event)) throw refused('not_an_object', `batch[${i}] must be a JSON object`);
    if (typeof event.channel !== 'string' || event.channel === '') {
      throw refused('invalid_channel', `batch[${i}] must name a "channel"`);
    }
    return toEvent(event, [event.channel], maxDataBytes);
  });
}

function toEvent(event: Record<string, unknown>, channels: string[], maxDataBytes: number): PusherEvent {
  const { name, data } = event;
  if (typeof name !== 'string' || name === '') throw refused('invalid_event', 'the event must have a "name"');
  if (name.length > MAX_EVENT_NAME_LENGTH) {
    throw refused('invalid_event', `"name" must be at most ${MAX_EVENT_NAME_LENGTH} characters`);
  }
  if (typeof data !== 'string') throw refused('invalid_data', '"data" must be a string (JSON-encode objects)');
  const bytes = Buffer.byteLength(data, 'utf8');
  if (bytes > maxDataBytes) {
    throw refused('too_large', `"data" is ${bytes} bytes, more than the ${maxDataBytes} allowed (maxMessageBytes)`);
  }
  const payload = socketIoData(data);
  const broadcasts = channels.map((channel) => toBroadcast(channel, name, payload, event.socket_id));
  return { broadcasts, info: infoOf(event.info) };
}

/** Through the validation every broadcast gets, Pusher's string `data` included. */
function toBroadcast(channel: string, event: string, data: BroadcastDto['data'], socket: unknown): BroadcastDto {
  const result = validateWithStringData(channel, { event, data, socket });
  if (!result.ok) throw DroppedMessage.of(result.drop);
  return result.broadcast;
}

function infoOf(info: unknown): ChannelAttribute[] {
  const attributes = attributesOf(info);
  if (attributes) return attributes;
  throw refused('invalid_event', '"info" may ask for subscription_count, user_count (comma-separated)');
}

function refused(reason: DropReason, detail: string): DroppedMessage {
  return new DroppedMessage(reason, '', detail);
}
