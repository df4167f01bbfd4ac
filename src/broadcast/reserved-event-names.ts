import { ValidateBy, type ValidationOptions } from '../internals/class-validator.js';

/**
 * Names socket.io keeps for itself: its server refuses to emit them, and its v4 client would hand
 * them to the socket's own connection listeners.
 */
const SOCKET_IO = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

/**
 * Names socket.io-client 2 keeps for itself: an event of one of these names from the server goes to
 * the socket's own listeners for its connection errors, reconnections and heartbeats (Laravel Echo's
 * `onConnectionChange` callbacks; Echo 1 resubscribes every channel on `reconnect`).
 */
const SOCKET_IO_CLIENT_2 = [
  'connect',
  'connect_error',
  'connect_timeout',
  'connecting',
  'disconnect',
  'error',
  'reconnect',
  'reconnect_attempt',
  'reconnect_failed',
  'reconnect_error',
  'reconnecting',
  'ping',
  'pong',
];

/** What echo-relay itself tells Laravel Echo's socket.io connector: presence changes, refused subscriptions. */
const LARAVEL_ECHO = ['presence:subscribed', 'presence:joining', 'presence:leaving', 'subscription_error'];

/**
 * pusher-js reads `pusher:` events as connection messages (`pusher:error` is a connection error)
 * and `pusher_internal:` ones as subscription and presence changes (`pusher_internal:member_added`).
 */
const PUSHER_PREFIXES = ['pusher:', 'pusher_internal:'];

/** Each reserved name and who reserves it; the first list naming it wins. */
const OWNER = new Map<string, string>([
  ...SOCKET_IO.map((name) => [name, 'socket.io'] as const),
  ...SOCKET_IO_CLIENT_2.filter((name) => !SOCKET_IO.includes(name)).map(
    (name) => [name, 'socket.io-client 2'] as const,
  ),
  ...LARAVEL_ECHO.map((name) => [name, "Laravel Echo's socket.io connector"] as const),
]);

/**
 * Who keeps `name` for itself, or undefined when a broadcast may carry it. A broadcast with a
 * reserved name cannot be delivered as an event without firing that library's own handlers in the
 * clients that use it, and echo-relay cannot tell which clients will receive it, so it is refused.
 */
export function reservedBy(name: string): string | undefined {
  const owner = OWNER.get(name);
  if (owner !== undefined) return owner;
  return PUSHER_PREFIXES.some((prefix) => name.startsWith(prefix)) ? 'the Pusher protocol (pusher-js)' : undefined;
}

/** The event name must be one no client library reserves (see `reservedBy`); other types pass. */
export function IsUnreservedEventName(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isUnreservedEventName',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || reservedBy(value) === undefined,
        defaultMessage: (args) => {
          const name = String(args?.value);
          return `event name ${JSON.stringify(name)} is reserved by ${reservedBy(name)} and cannot be delivered as an event`;
        },
      },
    },
    options,
  );
}
