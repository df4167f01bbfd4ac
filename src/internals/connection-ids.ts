/**
 * Written against socket.io 4.8.3 and engine.io 6.6.12 (see WRITTEN_AGAINST in ./written-against.ts).
 *
 * Internals relied on: the id of a socket of the main namespace, which socket.io also makes the
 * name of a room holding that socket alone (`Socket#_onconnect` joins `this.id`). It is
 * `base64id.generateId()` for an Engine.IO 4 client, the Engine.IO id for an Engine.IO 3 one
 * (engine.io's `Server#generateId`, base64id as well), and a restored socket's previous id, one of
 * those. base64id writes 15 bytes in base64 with `/` and `+` replaced by `_` and `-`: 20
 * characters of `[A-Za-z0-9_-]`.
 *
 * Pusher connections are entered in the same rooms under their `socket_id` (see `PusherHub`), which
 * echo-relay makes itself (`newSocketId`, src/pusher/pusher-protocol.ts): `<digits>.<digits>`.
 *
 * Contract: ./connection-ids.contract.test.ts.
 */

/** socket.io's socket ids (base64id) and Pusher `socket_id`s. */
const CONNECTION_ID = /^(?:[A-Za-z0-9_-]{20}|\d+\.\d+)$/;

/**
 * Whether `name` can be the id of a connection, and so the name of the room that holds it alone.
 * Names that cannot are no connection's room on any node: every node runs the same generators, a
 * socket id is only known on its own node, but its shape is the same everywhere.
 */
export function isConnectionId(name: string): boolean {
  return CONNECTION_ID.test(name);
}

/**
 * The room a broadcast may leave out for `socket` (its `socket_id`, `toOthers()`): that connection's
 * own room, or none when the name cannot be a connection's, whatever a caller put there, so an
 * exclusion never leaves out a channel's subscribers.
 */
export function exceptedConnection(socket: string | null | undefined): string | undefined {
  return socket && isConnectionId(socket) ? socket : undefined;
}
