import type { TestingModule } from '@nestjs/testing';
import type { Server, Socket } from 'socket.io';
import type { PresenceService } from '../../src/channels/presence.service.js';
import type { RedisPresenceStore } from '../../src/channels/redis-presence.store.js';

/** One echo-relay node's presence in a unit spec: the real service and store, on the spec's own Redis. */
export interface PresenceNode {
  store: RedisPresenceStore;
  presence: PresenceService;
  module: TestingModule;
}

/** A socket that records what `to(room).emit` sends to the room (presence:joining). */
export class FakeSocket {
  readonly toRoom: unknown[][] = [];

  constructor(readonly id: string) {}

  to(room: string): { emit: (...args: unknown[]) => boolean } {
    return { emit: (...args) => this.toRoom.push([room, ...args]) > 0 };
  }

  get asSocket(): Socket {
    return this as unknown as Socket;
  }
}

/**
 * Stands in for the socket.io server of one node holding `sockets`: what `emitToChannel` sends
 * (presence:leaving) is recorded in `log`, shared by every node, as the Redis adapter would
 * deliver it to all of them.
 */
export function fakeServer(log: unknown[][], sockets: FakeSocket[] = []): Server {
  const server = {
    sockets: { sockets: new Map<string, Socket>(sockets.map((s) => [s.id, s.asSocket])) },
    to: (room: string) => ({ emit: (...args: unknown[]) => log.push([room, ...args]) > 0 }),
  };
  return server as unknown as Server;
}
