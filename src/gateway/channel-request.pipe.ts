import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { channelNameProblem, isValidChannelName } from '../channels/channel-type.js';
import { stringHeaders } from '../common/http-headers.js';
import { isPlainObject } from '../common/plain-object.js';
import { InvalidClientMessage } from './client-errors.js';

/** `subscribe` / `unsubscribe` as Laravel Echo sends them: `{channel, auth: {headers}}`. */
export interface ChannelRequest {
  channel: string;
  /** Headers Echo was configured with (`auth.headers`), forwarded to the auth endpoint. */
  headers: Record<string, string>;
}

/**
 * The one parse of a `subscribe` / `unsubscribe` body: a typed `ChannelRequest` for the gateway,
 * or an `InvalidClientMessage` (ignored, logged at debug, counted) for anything Echo does not send.
 */
@Injectable()
export class ChannelRequestPipe implements PipeTransform<unknown, ChannelRequest> {
  transform(body: unknown, metadata?: ArgumentMetadata): ChannelRequest {
    const event = metadata?.data ?? 'subscribe';
    if (!isPlainObject(body)) throw new InvalidClientMessage(event, 'payload is not an object');
    if (!isValidChannelName(body.channel)) {
      throw new InvalidClientMessage(event, `missing or invalid channel (${channelNameProblem(body.channel)})`);
    }
    return { channel: body.channel, headers: stringHeaders(body.auth) };
  }
}
