import type { BroadcastDto } from './broadcast.dto.js';
import type { IngestResult } from './ingest-result.js';
import { validateBroadcast } from './validate-broadcast.js';

/**
 * What socket.io clients receive for a string `data` of an HTTP API (always a string in Pusher's,
 * sometimes in laravel-echo-server's): the parsed value when the string is JSON of an object or
 * array (Laravel's PusherBroadcaster JSON-encodes the payload, so Echo gets the same object as
 * from the Redis driver), the string itself otherwise (not JSON, or JSON of a number, string,
 * boolean or null), which laravel-echo-server passed on as well.
 */
export function socketIoData(data: string): Record<string, unknown> | unknown[] | string {
  try {
    const parsed = JSON.parse(data) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : data;
  } catch {
    return data;
  }
}

/**
 * `validateBroadcast` for a payload whose `data` may be such a string. A string is not a JSON
 * container, which that validation (shared with Redis, where a string is an error) refuses: the
 * rest of the broadcast is validated with an empty object in its place, then the string is put back.
 */
export function validateWithStringData(
  channel: string,
  payload: { event: unknown; data: unknown; socket: unknown },
): IngestResult {
  const { data } = payload;
  const result = validateBroadcast(channel, { ...payload, data: typeof data === 'string' ? {} : data });
  if (result.ok) result.broadcast.data = data as BroadcastDto['data'];
  return result;
}
