import { TokenBucket } from '../channels/token-bucket.js';
import type { LimitsConfig } from './limits.config.js';

type MessageLimits = Pick<LimitsConfig, 'maxMessagesPerSecond' | 'maxMessageBurst' | 'maxChannelsPerSocket'>;

/**
 * `limits.maxMessagesPerSecond` and `maxMessageBurst` for one new connection of either protocol:
 * every message the server parses from it takes a token (`take()` false: over the limit). Refilled
 * lazily on each message, a few arithmetic operations and a clock read, no timer. `undefined` when
 * the limit is off (`maxMessagesPerSecond` 0).
 */
export function messageBudget(limits: MessageLimits): TokenBucket | undefined {
  if (limits.maxMessagesPerSecond <= 0) return undefined;
  return new TokenBucket(limits.maxMessagesPerSecond, Date.now(), limits.maxMessageBurst);
}

/** What the log says of a connection over its budget. */
export function overBudget(limits: MessageLimits): string {
  return (
    `sent more than limits.maxMessagesPerSecond (${limits.maxMessagesPerSecond}/s ` +
    `after a burst of limits.maxMessageBurst ${limits.maxMessageBurst})`
  );
}

/**
 * Why the settings would cut legitimate clients, if they would: Echo re-subscribes every channel
 * at once after a reconnect, up to `maxChannelsPerSocket` messages in a row.
 */
export function budgetWarning(limits: MessageLimits): string | undefined {
  if (limits.maxMessagesPerSecond <= 0) return undefined;
  const needed = limits.maxChannelsPerSocket + 100;
  if (limits.maxMessageBurst >= needed) return undefined;
  return (
    `limits.maxMessageBurst (${limits.maxMessageBurst}) is below limits.maxChannelsPerSocket ` +
    `(${limits.maxChannelsPerSocket}) plus a margin: a client re-subscribing all its channels after a ` +
    `reconnect would be disconnected; raise it to at least ${needed}`
  );
}
