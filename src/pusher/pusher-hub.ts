import { Injectable, Logger } from '@nestjs/common';
import { channelOfRoom, channelRoom } from '../channels/channel-room.js';
import { SocketServer } from '../gateway/socket-server.js';
import { tapBroadcasts } from '../internals/guarded-redis-adapter.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { isPlainObject } from '../common/plain-object.js';
import { RedisUnavailable } from '../http-api/redis-unavailable.js';
import type { PusherConnection } from './pusher-connection.js';
import { channelEventFrame, frameOfEmit } from './pusher-protocol.js';

/** The server-side event through which nodes ask each other for their Pusher connection counts. */
const COUNT_EVENT = 'echo-relay:pusher-counts';

/**
 * This node's Pusher connections, in the same channel space as its socket.io sockets. Each
 * connection is entered in the socket.io adapter's rooms under its id (`Adapter#addAll`), like a
 * socket, and in the room of each of its channels (`channelRoom`; `rooms` here is by channel
 * name): room sizes count it, the Redis adapter forwards a channel's emits to every node that has
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
  /** Whether this node serves the Pusher endpoint (set by `PusherGateway`): only then are counts asked. */
  private serving = false;

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
    void this.sockets.localRooms.addAll(connection.id, new Set([channelRoom(channel)]));
  }

  leave(connection: PusherConnection, channel: string): void {
    const room = this.rooms.get(channel);
    if (!room?.delete(connection)) return;
    if (room.size === 0) this.rooms.delete(channel);
    void this.sockets.localRooms.del(connection.id, channelRoom(channel));
  }

  /**
   * Called once the endpoint serves: from then on this node answers the others' count requests,
   * and its HTTP APIs ask them (see `clusterCounts`).
   */
  serve(): void {
    this.serving = true;
    this.sockets.io.on(COUNT_EVENT, (prefix: unknown, ack: unknown) => {
      // Anyone able to PUBLISH on the shared Redis can send this: answer well-formed requests only.
      if (typeof prefix === 'string' && typeof ack === 'function')
        (ack as (counts: unknown) => void)(Object.fromEntries(this.localCounts(prefix)));
    });
  }

  /**
   * Pusher connections per channel whose name starts with `prefix`, on every node (a server-side
   * emit through the Redis adapter, answered by each node's hub within the adapter's request
   * timeout, else a 503): the HTTP APIs add them to their
   * socket counts, which `fetchSockets` gives for socket.io sockets only.
   */
  async clusterCounts(prefix = ''): Promise<Map<string, number>> {
    const counts = this.localCounts(prefix);
    if (!this.serving) return counts;
    let replies: unknown[];
    try {
      replies = (await this.sockets.io.serverSideEmitWithAck(COUNT_EVENT, prefix)) as unknown[];
    } catch {
      throw new RedisUnavailable('Other nodes did not report their Pusher connections in time');
    }
    for (const reply of replies) {
      if (!isPlainObject(reply)) continue;
      for (const [channel, count] of Object.entries(reply)) {
        if (!channel.startsWith(prefix) || !Number.isSafeInteger(count) || (count as number) < 0) continue;
        counts.set(channel, (counts.get(channel) ?? 0) + (count as number));
      }
    }
    return counts;
  }

  private localCounts(prefix: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [channel, room] of this.rooms) if (channel.startsWith(prefix)) counts.set(channel, room.size);
    return counts;
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
      connection.sendOn(channel, frame);
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
        const channel = channelOfRoom(name);
        const room = channel === undefined ? this.ownRoom(name) : this.rooms.get(channel);
        if (!room) continue;
        for (const connection of room) {
          if (except.has(connection.id) || reached.has(connection)) continue;
          frame ??= frameOfEmit(args);
          if (frame === undefined) return;
          reached.add(connection);
          // A connection's own room carries events of the channel the emit names.
          connection.sendOn(channel ?? (args[1] as string), frame);
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
