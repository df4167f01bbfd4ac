import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ChannelSubscriptions } from '../channels/channel-subscriptions.js';
import { PresenceDirectory } from '../channels/presence-directory.js';
import { MAX_USER_ID_LENGTH } from '../channels/presence-member.js';
import { SocketServer } from '../gateway/socket-server.js';
import { RedisUnavailable } from '../http-api/redis-unavailable.js';

/** The socket.io server-side event that asks every node to end a user's connections. */
export const TERMINATE_USER_EVENT = 'echo-relay:terminate-user';

/** Ends one gateway's connections of a user on this node; returns how many it ended. */
export type LocalTerminator = (userId: string) => number;

/**
 * Pusher's `terminate_connections`: every connection of a user, on every node, is closed. A
 * socket's user is known from the presence channels it joined (the member its app named there);
 * a socket in no presence channel belongs to no user and stays. The request reaches the other
 * nodes as a socket.io server-side emit through the Redis adapter; this node acts at once.
 * socket.io clients closed by the server do not reconnect by themselves.
 *
 * Other gateways of this node (the Pusher WebSocket endpoint) add their connections with `register`.
 */
@Injectable()
export class UserTerminations implements OnApplicationBootstrap {
  private readonly log = new Logger('PusherApi');
  private readonly terminators: LocalTerminator[] = [(userId) => this.socketIo(userId)];

  constructor(
    private readonly sockets: SocketServer,
    private readonly subscriptions: ChannelSubscriptions,
    private readonly directory: PresenceDirectory,
  ) {}

  /** The gateway hands its server over before the app's bootstrap hooks run. */
  onApplicationBootstrap(): void {
    this.sockets.io.on(TERMINATE_USER_EVENT, (userId: unknown) => {
      // Anyone able to PUBLISH on the shared Redis can send this: a user id, or nothing.
      if (typeof userId === 'string' && userId.length <= MAX_USER_ID_LENGTH) this.local(userId);
    });
  }

  register(terminator: LocalTerminator): void {
    this.terminators.push(terminator);
  }

  /** Closes the user's connections on every node; 503 while Redis cannot carry the request. */
  terminate(userId: string): void {
    if (!this.directory.connected) {
      throw new RedisUnavailable('Redis is unreachable; the other nodes cannot be asked to close the connections');
    }
    this.sockets.io.serverSideEmit(TERMINATE_USER_EVENT, userId);
    this.local(userId);
  }

  private local(userId: string): void {
    const closed = this.terminators.reduce((sum, terminate) => sum + terminate(userId), 0);
    if (closed > 0) this.log.log(`Closed ${closed} connection(s) of user "${userId}" (terminate_connections)`);
  }

  private socketIo(userId: string): number {
    const sockets = [...this.sockets.localSockets()].filter((socket) => this.subscriptions.isUser(socket, userId));
    for (const socket of sockets) socket.disconnect(true);
    return sockets.length;
  }
}
