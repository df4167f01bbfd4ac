/** Why a message from a publisher was not delivered. Used as a metric label: keep the set small. */
export type DropReason =
  | 'too_large'
  | 'invalid_utf8'
  | 'invalid_json'
  | 'not_an_object'
  | 'invalid_channel'
  | 'invalid_event'
  | 'invalid_data'
  | 'invalid_socket'
  | 'too_deep'
  | 'http_disabled'
  | 'handler_error';

/** Thrown anywhere on the ingest path; the drop filter logs and counts it, and nothing else happens. */
export class DroppedMessage extends Error {
  override name = 'DroppedMessage';

  constructor(
    readonly reason: DropReason,
    readonly channel: string,
    detail: string,
  ) {
    super(detail);
  }
}
