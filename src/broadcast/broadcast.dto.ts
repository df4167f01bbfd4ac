import 'reflect-metadata';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from '../internals/class-validator.js';
import { IsJsonContainer, IsWellFormedString, MaxJsonDepth } from './json-container.validator.js';
import { IsUnreservedEventName } from './reserved-event-names.js';

/** Nesting beyond this is refused: socket.io walks `data` recursively on every emit. */
export const MAX_DATA_DEPTH = 64;

/**
 * One broadcast as Laravel's RedisBroadcaster publishes it (`{event, data, socket}`), after the
 * channel prefix has been stripped. Validated once per message, never per recipient.
 *
 * Each field's type check is the decorator nearest to it: decorators are applied bottom-up, and
 * class-validator runs them in that order and (with `stopAtFirstError`, as `validateBroadcast`
 * asks) reports only the first that fails. A value of the wrong type is then refused for its type,
 * not for a length it cannot have.
 */
export class BroadcastDto {
  /** Concrete channel (room) name, prefix already removed. */
  channel!: string;

  /**
   * `broadcastAs()` or the event's class name, e.g. `App\Events\OrderShipped`; not a name a client
   * library keeps for itself (`error` for socket.io-client 2, `pusher:…` for pusher-js), and
   * well-formed Unicode, as channel names are (`channelNameProblem`).
   */
  @IsUnreservedEventName()
  @IsWellFormedString()
  @MaxLength(200)
  @IsNotEmpty()
  @IsString()
  event!: string;

  /**
   * The event's payload: an object or (for `[]` from PHP) an array, passed through unchanged.
   * A string only from Pusher's HTTP API, whose `data` is a string that is not JSON of an object
   * or array; validated as such there (see `src/pusher-api/pusher-events.ts`).
   */
  @MaxJsonDepth(MAX_DATA_DEPTH)
  @IsJsonContainer()
  data!: Record<string, unknown> | unknown[] | string;

  /** `X-Socket-ID` of the request that used `->toOthers()`; that socket is left out. */
  @IsOptional()
  @MaxLength(100)
  @IsString()
  socket?: string | null;
}
