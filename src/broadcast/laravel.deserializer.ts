import type { Deserializer, IncomingEvent } from '@nestjs/microservices';
import { isUtf8 } from 'node:buffer';
import { stripPrefix } from './laravel-prefix.js';
import type { DropReason } from './ingest-result.js';

/** The logical pattern of the broadcast handler; the server maps `<prefix>*` onto it. */
export const LARAVEL_BROADCAST = 'laravel.broadcast';

/** One Redis message, deserialized: a parsed payload, or the reason it is unusable. */
export interface IncomingBroadcast {
  /** Channel name with Laravel's prefix removed. */
  channel: string;
  /** The Redis channel it came on, prefix included, for logs. */
  redisChannel: string;
  payload?: unknown;
  /** The message as received (UTF-8 text), for matching it across nodes (`Sequencer`). */
  raw?: string;
  invalid?: { reason: DropReason; detail: string };
}

/**
 * What the broadcast handler receives: the messages of one Redis read, in order. Handing them over
 * together costs Nest's per-event dispatch (promises, context, pipe and filter lookup) once per
 * read instead of once per message; each message is still parsed and validated on its own.
 */
export interface IncomingBatch {
  /** `performance.now()` when the first of them arrived, for the ingest-to-emit histogram. */
  receivedAt: number;
  messages: IncomingBroadcast[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Keeps Laravel's whole `{event, data, socket}` payload. Nest's default deserializer takes the
 * JSON for one of its own packets and drops `event` and `socket`; this one never sets an `id`,
 * since a packet with an id is answered on `<channel>.reply`, which a pattern subscription
 * would receive again, forever.
 */
export class LaravelDeserializer implements Deserializer<Buffer, IncomingEvent> {
  constructor(private readonly options: { prefix: string; maxMessageBytes: number }) {}

  /** `context`: `channel`, the Redis channel's name, and `channelBytes`, that name as Redis sent it. */
  deserialize(message: Buffer, context?: Record<string, unknown>): IncomingEvent {
    const raw = context?.channel;
    const redisChannel = typeof raw === 'string' ? raw : '';
    const bytes = context?.channelBytes;
    return {
      pattern: LARAVEL_BROADCAST,
      data: this.parse(redisChannel, message, Buffer.isBuffer(bytes) ? bytes : undefined),
    };
  }

  private parse(redisChannel: string, message: Buffer, channelBytes?: Buffer): IncomingBroadcast {
    const channel = stripPrefix(redisChannel, this.options.prefix);
    // Decoding put U+FFFD where the bytes were no UTF-8: the name is not the one published, and
    // delivering to it would reach a room nobody named. (Checked only when a U+FFFD is there.)
    if (channelBytes && redisChannel.includes('\uFFFD') && !isUtf8(channelBytes)) {
      return invalid(channel, redisChannel, 'invalid_channel', 'the Redis channel name is not valid UTF-8');
    }
    if (message.length > this.options.maxMessageBytes) {
      return invalid(channel, redisChannel, 'too_large', `${message.length} bytes > ${this.options.maxMessageBytes}`);
    }
    let text: string;
    try {
      text = utf8.decode(message);
    } catch {
      return invalid(channel, redisChannel, 'invalid_utf8', 'payload is not valid UTF-8');
    }
    try {
      return { channel, redisChannel, payload: JSON.parse(text) as unknown, raw: text };
    } catch (err) {
      return invalid(channel, redisChannel, 'invalid_json', (err as Error).message);
    }
  }
}

function invalid(channel: string, redisChannel: string, reason: DropReason, detail: string): IncomingBroadcast {
  return { channel, redisChannel, invalid: { reason, detail } };
}
