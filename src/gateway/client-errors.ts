/** A subscription the socket may not have; the client is told with `subscription_error`. */
export class SubscriptionDenied extends Error {
  override name = 'SubscriptionDenied';

  constructor(
    readonly channel: string,
    /** HTTP status of the auth answer, 0 when the auth call failed to connect or timed out. */
    readonly status: number,
    detail = `subscription to "${channel}" denied (${status})`,
  ) {
    super(detail);
  }
}

/** A message from a browser that is not what Echo sends; ignored, logged at debug, counted. */
export class InvalidClientMessage extends Error {
  override name = 'InvalidClientMessage';

  constructor(
    readonly event: string,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * A subscribe that is dropped without an answer: it is already in flight, or the socket left
 * (unsubscribe, disconnect) while it was being authorised. Logged at debug only.
 */
export class SubscriptionIgnored extends Error {
  override name = 'SubscriptionIgnored';

  constructor(
    readonly channel: string,
    reason: string,
  ) {
    super(`subscribe to "${channel}" ignored: ${reason}`);
  }
}
