import { Injectable, Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { SocketServer } from '../gateway/socket-server.js';
import type { PresenceMember } from './presence-directory.js';
import { RedisPresenceStore, type Departure } from './redis-presence.store.js';

/**
 * Presence events on top of the store. `joining` and `leaving` go through `to(channel)`, not
 * `local`: with the socket.io Redis adapter they reach the channel's sockets on every node, and
 * the store's atomic first/last decision makes exactly one node send each of them.
 */
@Injectable()
export class PresenceService {
  private readonly log = new Logger('Presence');
  private stopped = false;
  /**
   * Per socket, the presence entries written (or being written) to the store for it: what a leave
   * removes, and what `reregister` writes again. Only this service reads it.
   */
  private readonly entries = new WeakMap<Socket, Map<string, PresenceMember>>();

  constructor(
    private readonly store: RedisPresenceStore,
    private readonly sockets: SocketServer,
  ) {}

  /**
   * Registers the socket's member and tells the others when it is the user's first socket here.
   * The local record is written before the store call, so an unsubscribe or disconnect that
   * arrives meanwhile removes what this call adds.
   *
   * `welcome` gets every member as soon as the store answers (for `presence:subscribed`), in the
   * same step that announces this member. Echo's `here()` replaces the client's list, so the list
   * must reach the socket before any `presence:joining` it does not contain: the store answers
   * in the order it ran the adds, and each answer's welcome and announcement run before the
   * next answer's, so a member added after this one is announced only after this welcome.
   */
  async add(
    socket: Socket,
    channel: string,
    member: PresenceMember,
    welcome?: (members: PresenceMember[]) => void,
  ): Promise<void> {
    this.entriesOf(socket).set(channel, member);
    const { first, members } = await this.store.add(channel, socket.id, member);
    welcome?.(members);
    if (first && !this.stopped) socket.to(channel).emit('presence:joining', channel, member);
  }

  /** Removes the socket's member, if it had one, and announces the user's departure if it was their last socket. */
  async remove(socket: Socket, channel: string): Promise<void> {
    if (!this.entries.get(socket)?.delete(channel)) return;
    const left = await this.store.remove(channel, socket.id);
    if (left) this.announce([{ channel, member: left }]);
  }

  /** Channels where the socket has a presence entry (or one being written). */
  channelsOf(socket: Socket): string[] {
    return [...(this.entries.get(socket)?.keys() ?? [])];
  }

  /** Tells each channel's remaining sockets, on every node, who left. */
  announce(departures: Departure[]): void {
    if (this.stopped) return;
    for (const { channel, member } of departures) this.sockets.emitToRoom(channel, 'presence:leaving', channel, member);
  }

  /**
   * After our lease lapsed, write our sockets' entries again. `announce`: another node purged them
   * and told every channel these members left, so the ones the store had lost are announced as
   * joining again. Otherwise (Redis lost its data, or nobody swept us yet) nobody saw them leave,
   * and a `presence:joining` would show them twice: they are written silently.
   */
  async reregister(announce: boolean): Promise<void> {
    let count = 0;
    for (const socket of this.sockets.localSockets()) {
      for (const [channel, member] of this.entries.get(socket) ?? []) {
        if (announce) await this.add(socket, channel, member);
        else await this.store.add(channel, socket.id, member);
        count++;
      }
    }
    if (count === 0) return;
    const why = announce ? 'other nodes had purged them' : 'Redis had lost them';
    this.log.warn(`Presence lease had lapsed; registered ${count} membership(s) of this node again (${why})`);
  }

  /**
   * Graceful stop: remove this node's members while Redis and the adapter still work, then go
   * quiet. Without Redis, or past `timeoutMs`, the lease does it instead.
   */
  async release(timeoutMs: number): Promise<void> {
    try {
      if (!this.store.connected) return;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      const purge = this.store.purgeOwn();
      purge.catch(() => undefined);
      this.announce(await Promise.race([purge, timeout]).finally(() => clearTimeout(timer)));
    } finally {
      this.stopped = true;
    }
  }

  private entriesOf(socket: Socket): Map<string, PresenceMember> {
    let entries = this.entries.get(socket);
    if (!entries) {
      entries = new Map();
      this.entries.set(socket, entries);
    }
    return entries;
  }
}
