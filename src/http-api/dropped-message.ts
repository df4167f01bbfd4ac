import type { Drop, DropReason } from '../broadcast/ingest-result.js';

/**
 * A publish the HTTP API refuses, thrown while the request is handled: `ApiErrorFilter` answers it
 * with a 4xx naming the problem, and logs and counts it. Messages from Redis never become one;
 * their drops stay plain values (`Drop`).
 */
export class DroppedMessage extends Error {
  override name = 'DroppedMessage';

  constructor(
    readonly reason: DropReason,
    readonly channel: string,
    detail: string,
  ) {
    super(detail);
  }

  static of({ reason, channel, detail }: Drop): DroppedMessage {
    return new DroppedMessage(reason, channel, detail);
  }
}
