import { Injectable, Logger } from '@nestjs/common';
import { SocketServer } from '../gateway/socket-server.js';
import { tapBroadcasts } from '../internals/guarded-redis-adapter.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import type { PusherConnection } from './pusher-connection.js';
import { channelEventFrame, frameOfEmit } from './pusher-protocol.js';

/**
 * This node's Pusher connections, in the same channel space as its socket.io sockets. Each
 * connection is entered in the socket.io adapter's rooms under its id (`Adapter#addAll`), like a
 * socket: room sizes count it, the Redis adapter forwards a channel's emits to every node that has
 * the room, and `except(id)` names it. The adapter only writes to real sockets, so the frames of
 * Pusher connections go out here:
 * - Laravel broadcasts from Redis, which every node delivers to its own clients: `deliver`, from
 *   `BroadcastDelivery.deliverLocal`;
 * - everything emitted through the adapter (HTTP API events, whispers, presence announcements),
 *   from any node: the adapter's broadcast tap, which sees each emit once per node.
 *
 * Without a Pusher connection, both cost one `Map` lookup per broadcast.
 */
@Injectable()
export class PusherHub {
  private readonly log = new ThrottledLog(new Logger('Pusher'));
  private readonly connections = new Map<string, PusherConnection>();
  /** Channel → its Pusher connections on this node. */
  private readonly rooms = new Map<string, Set<PusherConnection>>();
  private tapped = false;

  constructor(private readonly sockets: SocketServer) {}

  /** Starts listening to the adapter's emits; once, when the first connection arrives. */
  add(connection: PusherConnection): void {
    if (!this.tapped) {
      tapBroadcasts(this.sockets.localRooms, (args, rooms, except) => this.fromAdapter(args, rooms, except));
      this.tapped = true;
    }
    this.connections.set(connection.id, connection);
    // The room named by its id, as every socket has: `except(id)` finds it there.
    void this.sockets.localRooms.addAll(connection.id, new Set([connection.id]));
  }

  remove(connection: PusherConnection): void {
    if (!this.connections.delete(connection.id)) return;
    for (const channel of connection.channels.keys()) this.leave(connection, channel);
    this.sockets.localRooms.delAll(connection.id);
  }

  join(connection: PusherConnection, channel: string): void {
    let room = this.rooms.get(channel);
    if (!room) this.rooms.set(channel, (room = new Set()));
    room.add(connection);
    void this.sockets.localRooms.addAll(connection.id, new Set([channel]));
  }

  leave(connection: PusherConnection, channel: string): void {
    const room = this.rooms.get(channel);
    if (!room?.delete(connection)) return;
    if (room.size === 0) this.rooms.delete(channel);
    void this.sockets.localRooms.del(connection.id, channel);
  }

  /** This node's Pusher connections (presence re-registration, the drain at shutdown). */
  all(): Iterable<PusherConnection> {
    return this.connections.values();
  }

  /** A Laravel broadcast to this node's Pusher connections in `channel`, minus `except`; how many got it. */
  deliver(channel: string, except: string | undefined, event: string, payload: unknown): number {
    const room = this.rooms.get(channel);
    if (!room) return 0;
    const frame = channelEventFrame(event, channel, payload);
    let sent = 0;
    for (const connection of room) {
      if (connection.id === except) continue;
      connection.send(frame);
      sent++;
    }
    return sent;
  }

  /** An emit through the adapter: to this node's Pusher connections in `rooms`, each once. */
  private fromAdapter(args: unknown[], rooms: ReadonlySet<string>, except: ReadonlySet<string>): void {
    if (this.rooms.size === 0 && this.connections.size === 0) return;
    let frame: string | undefined;
    const reached = new Set<PusherConnection>();
    try {
      for (const name of rooms) {
        const room = this.rooms.get(name) ?? this.ownRoom(name);
        if (!room) continue;
        for (const connection of room) {
          if (except.has(connection.id) || reached.has(connection)) continue;
          frame ??= frameOfEmit(args);
          if (frame === undefined) return;
          reached.add(connection);
          connection.send(frame);
        }
      }
    } catch (err) {
      // Never thrown into the adapter, which would lose the emit for the sockets of later nodes.
      this.log.warn('tap', `Pusher delivery of an emit failed: ${(err as Error).message}`);
    }
  }

  /** The room named by a connection's id: an emit to one connection. */
  private ownRoom(name: string): Set<PusherConnection> | undefined {
    const connection = this.connections.get(name);
    return connection ? new Set([connection]) : undefined;
  }
}
