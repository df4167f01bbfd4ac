import { Injectable, type PipeTransform } from '@nestjs/common';
import type { BroadcastDto } from './broadcast.dto.js';
import { dropped, type Drop, type IngestResult } from './ingest-result.js';
import type { IncomingBroadcast } from './laravel.deserializer.js';
import { validateBroadcast } from './validate-broadcast.js';

/** The messages of one Redis read after validation, in their order, each with its Redis channel. */
export interface ValidatedBatch {
  accepted: { broadcast: BroadcastDto; redisChannel: string; raw: string }[];
  dropped: { drop: Drop; redisChannel: string }[];
}

/**
 * Validates each message of a batch on its own: one that fails is set aside as a drop (the
 * handler counts and logs it) without affecting the others.
 */
@Injectable()
export class BroadcastBatchValidationPipe implements PipeTransform<IncomingBroadcast[], ValidatedBatch> {
  transform(messages: IncomingBroadcast[]): ValidatedBatch {
    const batch: ValidatedBatch = { accepted: [], dropped: [] };
    for (const incoming of messages) {
      const result = validateIncoming(incoming);
      if (result.ok) {
        batch.accepted.push({
          broadcast: result.broadcast,
          redisChannel: incoming.redisChannel,
          raw: incoming.raw ?? '',
        });
      } else batch.dropped.push({ drop: result.drop, redisChannel: incoming.redisChannel });
    }
    return batch;
  }
}

/**
 * What the deserializer could not parse is dropped here; the rest goes through the validation
 * shared with the HTTP API.
 */
export function validateIncoming({ channel, payload, invalid }: IncomingBroadcast): IngestResult {
  if (invalid) return dropped(invalid.reason, channel, invalid.detail);
  return validateBroadcast(channel, payload);
}
