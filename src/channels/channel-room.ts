import { isConnectionId } from '../internals/connection-ids.js';

/**
 * Marks a channel room whose name would otherwise be taken for a connection's own room. No
 * connection id contains it; channel names may (only whitespace and control characters are out).
 */
const ESCAPE = '#';

/**
 * The socket.io adapter room of a channel: where its subscribers of both protocols are, on every
 * node. Channels share the adapter's rooms with connections: socket.io puts every socket in a room
 * named by its id, and `PusherHub` every Pusher connection likewise, which is how `except(id)` and
 * `socket.to(room)` leave one connection out on every node. Were a channel's room one of those, a
 * broadcast to a channel named like a socket id would reach that socket, which never subscribed,
 * and a client subscribing to it would sit in that socket's own room, left out of whatever leaves
 * that socket out.
 *
 * A channel's room is its name, as the Admin UI shows it and as earlier versions of echo-relay
 * name it (a cluster being upgraded node by node keeps exchanging its emits), except for a name
 * that could be a connection's id (`isConnectionId`), which gets `#` in front. So does a name that
 * starts with `#`, so that two channels never share a room. Every room name that reaches socket.io
 * for a channel comes from here.
 */
export function channelRoom(channel: string): string {
  return isConnectionId(channel) || channel.startsWith(ESCAPE) ? ESCAPE + channel : channel;
}

/**
 * The channel whose room `room` is, or `undefined` for a connection's own room: for listings and
 * counts, which read rooms back from the adapter (a socket's `rooms`, its join and leave events).
 */
export function channelOfRoom(room: string): string | undefined {
  if (room.startsWith(ESCAPE)) return room.slice(ESCAPE.length);
  return isConnectionId(room) ? undefined : room;
}
