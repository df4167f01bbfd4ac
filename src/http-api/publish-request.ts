import { isPlainObject } from '../common/plain-object.js';
import type { BroadcastDto } from '../broadcast/broadcast.dto.js';
import type { DropReason } from '../broadcast/ingest-result.js';
import { socketIoData, validateWithStringData } from '../broadcast/string-data.js';
import { DroppedMessage } from './dropped-message.js';

/** Most channels one request may name (Pusher's limit for one trigger). */
export const MAX_CHANNELS_PER_EVENT = 100;

/**
 * `POST /apps/:appId/events` as laravel-echo-server and Pusher SDKs send it:
 * `{channel | channels, name, data, socket_id?}`.
 */
export interface PublishRequest {
  channels: string[];
  name: string;
  /**
   * Parsed when it came as a JSON string of an object or array (Pusher SDK style); any other
   * string is passed on as it is, as laravel-echo-server did.
   */
  data: unknown;
  /** `socket_id`: that socket is left out. Validated with the broadcast. */
  socketId?: unknown;
}

/** What a publish whose body was not read as JSON (no JSON content type) is told, by both APIs. */
export const NOT_JSON_BODY = 'request body must be a JSON object sent with Content-Type: application/json';

/** The body's field behind each drop reason, for error messages in the caller's terms. */
const FIELD_BY_REASON: Partial<Record<DropReason, string>> = {
  invalid_channel: 'channel',
  invalid_event: 'name',
  invalid_data: 'data',
  too_deep: 'data',
  invalid_socket: 'socket_id',
};

/** Reads the request body; throws `DroppedMessage` (channel `''`) naming the problem. */
export function parsePublishRequest(body: unknown): PublishRequest {
  if (body === undefined) throw refused('not_an_object', NOT_JSON_BODY);
  if (!isPlainObject(body)) throw refused('not_an_object', 'request body must be a JSON object');
  return {
    channels: channelsOf(body),
    name: nameOf(body.name),
    data: dataOf(body.data),
    socketId: body.socket_id,
  };
}

/**
 * One validated broadcast per channel, through the same validation as Redis messages; the first
 * drop is thrown as `DroppedMessage`. All are validated before any is delivered, so a request is
 * delivered whole or not at all.
 */
export function toBroadcasts(request: PublishRequest): BroadcastDto[] {
  const payload = { event: request.name, data: request.data, socket: request.socketId };
  return request.channels.map((channel) => {
    const result = validateWithStringData(channel, payload);
    if (!result.ok) throw DroppedMessage.of(result.drop);
    return result.broadcast;
  });
}

/** What the caller is told about a refused request. */
export function describeRefusal(drop: DroppedMessage): string {
  const field = FIELD_BY_REASON[drop.reason];
  const where = drop.channel ? ` (channel "${drop.channel}")` : '';
  return field && drop.channel ? `invalid "${field}"${where}: ${drop.message}` : drop.message;
}

/** `channels` (up to 100, duplicates dropped) or `channel`, as both APIs read them. */
export function channelsOf(body: Record<string, unknown>): string[] {
  // The old server: `body.channels || [body.channel]`.
  const { channels, channel } = body;
  if (channels !== undefined && channels !== null) {
    if (!Array.isArray(channels) || channels.length === 0 || !channels.every((c) => typeof c === 'string')) {
      throw refused('invalid_channel', '"channels" must be a non-empty array of channel names');
    }
    const unique = [...new Set(channels)];
    if (unique.length > MAX_CHANNELS_PER_EVENT) {
      throw refused('invalid_channel', `"channels" may name at most ${MAX_CHANNELS_PER_EVENT} channels`);
    }
    return unique;
  }
  if (typeof channel !== 'string' || channel === '') {
    throw refused('invalid_channel', 'the event must name a "channel" (or "channels")');
  }
  return [channel];
}

function nameOf(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw refused('invalid_event', 'the event must have a "name"');
  return name;
}

function dataOf(data: unknown): unknown {
  if (data === undefined || data === null) throw refused('invalid_data', 'the event must have "data"');
  return typeof data === 'string' ? socketIoData(data) : data;
}

function refused(reason: DropReason, detail: string): DroppedMessage {
  return new DroppedMessage(reason, '', detail);
}
