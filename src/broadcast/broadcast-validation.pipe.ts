import { Injectable, type PipeTransform } from '@nestjs/common';
import type { BroadcastDto } from './broadcast.dto.js';
import { DroppedMessage } from './dropped-message.js';
import type { IncomingBroadcast } from './laravel.deserializer.js';
import { validateBroadcast } from './validate-broadcast.js';

/** The messages of one Redis read after validation, in their order, each with its Redis channel. */
export interface ValidatedBatch {
  accepted: { broadcast: BroadcastDto; redisChannel: string }[];
  dropped: { drop: DroppedMessage; redisChannel: string }[];
}

/**
 * Validates each message of a batch on its own: one that fails is set aside as a `DroppedMessage`
 * (the handler counts and logs it) without affecting the others.
 */
@Injectable()
export class BroadcastBatchValidationPipe implements PipeTransform<IncomingBroadcast[], ValidatedBatch> {
  transform(messages: IncomingBroadcast[]): ValidatedBatch {
    const batch: ValidatedBatch = { accepted: [], dropped: [] };
    for (const incoming of messages) {
      try {
        batch.accepted.push({ broadcast: toBroadcast(incoming), redisChannel: incoming.redisChannel });
      } catch (err) {
        if (!(err instanceof DroppedMessage)) throw err;
        batch.dropped.push({ drop: err, redisChannel: incoming.redisChannel });
      }
    }
    return batch;
  }
}

/**
 * What the deserializer could not parse is dropped here; the rest goes through the validation
 * shared with the HTTP API.
 */
export function toBroadcast({ channel, payload, invalid }: IncomingBroadcast): BroadcastDto {
  if (invalid) throw new DroppedMessage(invalid.reason, channel, invalid.detail);
  return validateBroadcast(channel, payload);
}
