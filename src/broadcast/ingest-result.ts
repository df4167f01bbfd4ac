import type { BroadcastDto } from './broadcast.dto.js';

/** Why a message from a publisher was not delivered. Used as a metric label: keep the set small. */
export type DropReason =
  | 'too_large'
  | 'invalid_utf8'
  | 'invalid_json'
  | 'not_an_object'
  | 'invalid_channel'
  | 'invalid_event'
  | 'invalid_data'
  | 'invalid_socket'
  | 'too_deep'
  | 'http_disabled'
  | 'handler_error';

/** A message that is not delivered, and why: counted and logged by the side it came in on. */
export interface Drop {
  reason: DropReason;
  /** Its channel, prefix stripped; `''` when it named none. */
  channel: string;
  /** What was wrong with it, for logs and HTTP error messages. */
  detail: string;
}

/** The verdict of ingest on one message: a broadcast to deliver, or a drop. */
export type IngestResult = { ok: true; broadcast: BroadcastDto } | { ok: false; drop: Drop };

export function accepted(broadcast: BroadcastDto): IngestResult {
  return { ok: true, broadcast };
}

export function dropped(reason: DropReason, channel: string, detail: string): IngestResult {
  return { ok: false, drop: { reason, channel, detail } };
}
