import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { isValidChannelName } from '../channels/channel-type.js';
import { stringHeaders } from '../common/http-headers.js';
import { isPlainObject } from '../common/plain-object.js';
import { InvalidClientMessage } from './client-errors.js';

/** `subscribe` / `unsubscribe` as Laravel Echo sends them: `{channel, auth: {headers}}`. */
export interface ChannelRequest {
  channel: string;
  /** Headers Echo was configured with (`auth.headers`), forwarded to the auth endpoint. */
  headers: Record<string, string>;
}

/** Validates a channel request from a browser; anything else is an `InvalidClientMessage`. */
@Injectable()
export class ChannelRequestPipe implements PipeTransform<unknown, ChannelRequest> {
  transform(body: unknown, metadata?: ArgumentMetadata): ChannelRequest {
    return parseChannelRequest(body, metadata?.data ?? 'subscribe');
  }
}

/** The pipe's check as a function, for the auth guard (guards run before pipes). */
export function parseChannelRequest(body: unknown, event: string): ChannelRequest {
  if (!isPlainObject(body)) throw new InvalidClientMessage(event, 'payload is not an object');
  if (!isValidChannelName(body.channel)) throw new InvalidClientMessage(event, 'missing or invalid channel');
  return { channel: body.channel, headers: stringHeaders(body.auth) };
}
