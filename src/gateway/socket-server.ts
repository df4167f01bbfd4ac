import { Injectable } from '@nestjs/common';
import type { Server, Socket } from 'socket.io';
import { channelRoom } from '../channels/channel-room.js';

/**
 * The socket.io server, for everything that reaches sockets from outside a socket's own handler:
 * broadcast delivery, presence announcements, the HTTP API's counts, the subscriptions gauge and
 * the drain at shutdown. Nest creates the server after the providers, when the app starts; the
 * gateway hands it over in `afterInit`, the one call to `attach`. Until then this node has no
 * sockets.
 */
@Injectable()
export class SocketServer {
  private server?: Server;

  attach(server: Server): void {
    this.server = server;
  }

  /** The server itself; throws before the gateway attached it. */
  get io(): Server {
    if (!this.server) throw new Error('the socket.io server is not started yet');
    return this.server;
  }

  /** Emits to a channel's sockets on every node, through the adapter; does nothing before the server exists. */
  emitToChannel(channel: string, event: string, ...args: unknown[]): void {
    this.server?.to(channelRoom(channel)).emit(event, ...args);
  }

  /** This node's sockets. */
  localSockets(): Iterable<Socket> {
    return this.server?.sockets.sockets.values() ?? [];
  }

  /** Every client connection of this node, for a graceful drain. */
  localConnections(): { close(): void }[] {
    return Array.from(this.localSockets(), (socket) => socket.conn);
  }

  /**
   * How many other echo-relay nodes share this one's adapter (the Redis adapter counts the
   * subscribers of its channel), or `undefined` when that cannot be told within `timeoutMs`.
   */
  async otherNodes(timeoutMs = 500): Promise<number | undefined> {
    const adapter = this.server?.of('/').adapter as { serverCount?: () => Promise<number> } | undefined;
    if (typeof adapter?.serverCount !== 'function') return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
    try {
      const count = await Promise.race([adapter.serverCount().catch(() => undefined), timeout]);
      return count === undefined ? undefined : Math.max(0, count - 1);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sockets of the whole cluster, optionally only those in one channel's room. Asks every node
   * through the socket.io adapter (the Redis adapter included), so counts are cluster-wide.
   */
  clusterSockets(channel?: string): ReturnType<Server['fetchSockets']> {
    const server = this.io;
    return channel ? server.in(channelRoom(channel)).fetchSockets() : server.fetchSockets();
  }

  /**
   * This node's room bookkeeping; its `join-room` / `leave-room` events feed the subscriptions gauge.
   * Channels are rooms under `channelRoom` names, beside every connection's own room.
   */
  get localRooms(): Server['sockets']['adapter'] {
    return this.io.sockets.adapter;
  }
}
