import type { Deserializer, IncomingEvent } from '@nestjs/microservices';
import { stripPrefix } from './laravel-prefix.js';
import type { DropReason } from './dropped-message.js';

/** The logical pattern of the broadcast handler; the server maps `<prefix>*` onto it. */
export const LARAVEL_BROADCAST = 'laravel.broadcast';

/** What the deserializer hands to the handler: a parsed payload, or the reason it is unusable. */
export interface IncomingBroadcast {
  /** Channel name with Laravel's prefix removed. */
  channel: string;
  payload?: unknown;
  invalid?: { reason: DropReason; detail: string };
  /** `performance.now()` on arrival, for the ingest-to-emit histogram. */
  receivedAt?: number;
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

  deserialize(message: Buffer, context?: Record<string, unknown>): IncomingEvent {
    const raw = context?.channel;
    const receivedAt = performance.now();
    const channel = stripPrefix(typeof raw === 'string' ? raw : '', this.options.prefix);
    return { pattern: LARAVEL_BROADCAST, data: { ...this.parse(channel, message), receivedAt } };
  }

  private parse(channel: string, message: Buffer): IncomingBroadcast {
    if (message.length > this.options.maxMessageBytes) {
      return invalid(channel, 'too_large', `${message.length} bytes > ${this.options.maxMessageBytes}`);
    }
    let text: string;
    try {
      text = utf8.decode(message);
    } catch {
      return invalid(channel, 'invalid_utf8', 'payload is not valid UTF-8');
    }
    try {
      return { channel, payload: JSON.parse(text) as unknown };
    } catch (err) {
      return invalid(channel, 'invalid_json', (err as Error).message);
    }
  }
}

function invalid(channel: string, reason: DropReason, detail: string): IncomingBroadcast {
  return { channel, invalid: { reason, detail } };
}
