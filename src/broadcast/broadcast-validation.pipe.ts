import { Injectable, type PipeTransform } from '@nestjs/common';
import type { BroadcastDto } from './broadcast.dto.js';
import { DroppedMessage } from './dropped-message.js';
import type { IncomingBroadcast } from './laravel.deserializer.js';
import { validateBroadcast } from './validate-broadcast.js';

/** Turns an `IncomingBroadcast` into a validated `BroadcastDto`, or throws `DroppedMessage`. */
@Injectable()
export class BroadcastValidationPipe implements PipeTransform<IncomingBroadcast, BroadcastDto> {
  transform(incoming: IncomingBroadcast): BroadcastDto {
    return toBroadcast(incoming);
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
