import { Injectable, type PipeTransform } from '@nestjs/common';
import type { BroadcastDto } from './broadcast.dto.js';
import { DroppedMessage } from './dropped-message.js';
import type { IncomingBroadcast } from './laravel.deserializer.js';
import { toBroadcast } from './to-broadcast.js';

/**
 * Turns an `IncomingBroadcast` into a validated `BroadcastDto`, or throws `DroppedMessage`: what the
 * deserializer could not parse is dropped here, the rest goes through the validation shared with
 * the HTTP API.
 */
@Injectable()
export class BroadcastValidationPipe implements PipeTransform<IncomingBroadcast, BroadcastDto> {
  transform({ channel, payload, invalid, receivedAt }: IncomingBroadcast): BroadcastDto {
    if (invalid) throw new DroppedMessage(invalid.reason, channel, invalid.detail);
    return toBroadcast(channel, payload, receivedAt);
  }
}
