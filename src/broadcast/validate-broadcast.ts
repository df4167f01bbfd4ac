import { validateSync } from '../internals/class-validator.js';
import { channelNameProblem } from '../channels/channel-type.js';
import { isPlainObject } from '../common/plain-object.js';
import { BroadcastDto } from './broadcast.dto.js';
import { compileAcceptor } from './class-validator-acceptor.js';
import { accepted, dropped, type DropReason, type IngestResult } from './ingest-result.js';

/** Which failing property becomes which drop reason (metric label). */
const REASON_BY_PROPERTY: Record<string, DropReason> = {
  event: 'invalid_event',
  data: 'invalid_data',
  socket: 'invalid_socket',
};

/** BroadcastDto's class-validator constraints, looked up once (see `compileAcceptor`). */
const acceptsBroadcast = compileAcceptor(BroadcastDto);

/**
 * The one validation every broadcast goes through, whatever its source (Redis or the HTTP API):
 * a `{event, data, socket}` payload for one channel becomes a `BroadcastDto`, or a drop naming
 * the reason. Returns rather than throws, since a bad message is an expected outcome, not a
 * failure. Builds the DTO by assigning the fields, so `data` is passed on as parsed, not copied.
 */
export function validateBroadcast(channel: string, payload: unknown): IngestResult {
  const problem = channelNameProblem(channel);
  if (problem) return dropped('invalid_channel', channel, `unusable channel name: ${problem}`);
  if (!isPlainObject(payload)) return dropped('not_an_object', channel, 'payload is not a JSON object');
  const dto = Object.assign(new BroadcastDto(), {
    channel,
    event: payload.event,
    data: payload.data,
    socket: payload.socket,
  });
  if (acceptsBroadcast?.(dto)) return accepted(dto);
  const errors = validateSync(dto, { stopAtFirstError: true });
  if (errors.length === 0) return accepted(dto);
  const first = errors[0];
  const reason = first.constraints?.maxJsonDepth ? 'too_deep' : REASON_BY_PROPERTY[first.property];
  const detail = Object.values(first.constraints ?? {}).join('; ');
  return dropped(reason ?? 'not_an_object', channel, detail);
}
