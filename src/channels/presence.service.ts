import { randomBytes } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { SocketServer } from '../gateway/socket-server.js';
import { PusherHub } from '../pusher/pusher-hub.js';
import { channelRoom } from './channel-room.js';
import { PresenceConfig } from './channels.config.js';
import type { PresenceMember } from './presence-directory.js';
import { RedisPresenceStore, type Departure } from './redis-presence.store.js';
import { isRoomKey } from './room-entry.js';
import { withTimeout } from '../common/with-timeout.js';

/**
 * A connection with presence entries: a socket.io socket, or a Pusher connection (see
 * `PusherConnection`). `to(channel)` reaches the channel's other connections on every node.
 */
export interface PresenceHolder {
  readonly id: string;
  to(room: string): { emit(event: string, ...args: unknown[]): unknown };
}

/**
 * One socket's presence entries: the key they are stored under and its member per channel.
 *
 * The key is the socket id plus a suffix of its own for every Socket object. A recovered socket
 * keeps the id of the one it replaces but is a new object, maybe on another node, while the old
 * entry may still be stored (leave grace, or a killed node not purged yet): under its own key, its
 * member counts as a second socket of the user, so adding it announces no `presence:joining`, and
 * removing the old entry later announces no `presence:leaving`. No space: the store's node set
 * holds "key channel".
 */
interface SocketEntries {
  key: string;
  channels: Map<string, PresenceMember>;
}

/**
 * Presence events on top of the store. `joining` and `leaving` go through `to(channel)`, not
 * `local`: with the socket.io Redis adapter they reach the channel's sockets on every node, and
 * the store's atomic first/last decision makes exactly one node send each of them.
 *
 * It also keeps the room entries (see `roomKey`) through which the store counts every channel's
 * sockets for the occupancy webhooks: they live and die like presence entries (leave grace,
 * lease, re-registration) but announce nothing to sockets.
 */
@Injectable()
export class PresenceService {
  private readonly log = new Logger('Presence');
  private stopped = false;
  /**
   * Per connected socket, the presence entries written (or being written) to the store for it:
   * what a leave removes, and what `reregister` writes again. Only this service reads it.
   */
  private readonly entries = new WeakMap<PresenceHolder, SocketEntries>();
  /** Sockets whose disconnect was handled: a presence write arriving later must not outlive them. */
  private readonly gone = new WeakSet<PresenceHolder>();
  /** Entries of disconnected sockets waiting for the end of `presence.leaveGraceMs`, by their timer. */
  private readonly leaving = new Map<NodeJS.Timeout, { entries: SocketEntries; settle: () => void }>();

  constructor(
    private readonly store: RedisPresenceStore,
    private readonly sockets: SocketServer,
    private readonly config: PresenceConfig,
    private readonly pusher: PusherHub,
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
    socket: PresenceHolder,
    channel: string,
    member: PresenceMember,
    welcome?: (members: PresenceMember[]) => void,
  ): Promise<void> {
    if (this.gone.has(socket)) return;
    const entries = this.entriesOf(socket);
    entries.channels.set(channel, member);
    const { first, members } = await this.store.add(channel, entries.key, member);
    welcome?.(members);
    if (first && !this.stopped && !isRoomKey(channel)) {
      socket.to(channelRoom(channel)).emit('presence:joining', channel, member);
    }
  }

  /**
   * A recovered socket's membership of a channel its session held (no auth call). Its entry is its
   * own (see `SocketEntries`), so while the replaced socket's entry is still stored, within
   * `presence.leaveGraceMs`, the user is not announced as joining; past it (or with no grace) they
   * are, like any first socket. `welcome` gets the current members: the socket may have missed
   * joins and leaves while it was away, so the caller sends `presence:subscribed` again.
   */
  rejoin(
    socket: PresenceHolder,
    channel: string,
    member: PresenceMember,
    welcome: (members: PresenceMember[]) => void,
  ): Promise<void> {
    return this.add(socket, channel, member, welcome);
  }

  /** Removes the socket's member, if it had one, and announces the user's departure if it was their last socket. */
  async remove(socket: PresenceHolder, channel: string): Promise<void> {
    const entries = this.entries.get(socket);
    if (!entries?.channels.delete(channel)) return;
    const left = await this.store.remove(channel, entries.key);
    if (left) this.announce([{ channel, member: left }]);
  }

  /**
   * A disconnected socket's entries: removed at once without a leave grace (`presence.leaveGraceMs`
   * 0), otherwise when it ends, so that a client reconnecting meanwhile (recovered, or fresh on
   * another node) adds its member again before this one goes and nobody sees the user leave. A
   * departure is announced only if these were the user's last entries by then. After a graceful
   * stop with a grace, other nodes purge them instead (see `release`). Resolves once they are
   * removed (or left to the others); failures are logged, never thrown.
   */
  async disconnected(socket: PresenceHolder): Promise<void> {
    this.gone.add(socket);
    const entries = this.entries.get(socket);
    this.entries.delete(socket);
    if (!entries || entries.channels.size === 0) return;
    const grace = this.config.leaveGraceMs;
    if (grace === 0) return this.removeEntries(entries);
    if (this.stopped) return;
    return new Promise((settle) => {
      const timer = setTimeout(() => {
        this.leaving.delete(timer);
        void this.removeEntries(entries).finally(settle);
      }, grace);
      timer.unref();
      this.leaving.set(timer, { entries, settle });
    });
  }

  /** Channels where the socket has a presence entry (or one being written). */
  channelsOf(socket: PresenceHolder): string[] {
    return [...(this.entries.get(socket)?.channels.keys() ?? [])].filter((channel) => !isRoomKey(channel));
  }

  /** Tells each channel's remaining sockets, on every node, who left. */
  announce(departures: Departure[]): void {
    if (this.stopped) return;
    for (const { channel, member } of departures) {
      // A room entry has no members to tell: its departure is the `channel_vacated` webhook.
      if (!isRoomKey(channel)) this.sockets.emitToChannel(channel, 'presence:leaving', channel, member);
    }
  }

  /**
   * After our lease lapsed, write our sockets' entries again. `announce`: another node purged them
   * and told every channel these members left, so the ones the store had lost are announced as
   * joining again. Otherwise (Redis lost its data, or nobody swept us yet) nobody saw them leave,
   * and a `presence:joining` would show them twice: they are written silently, and so are those
   * of disconnected sockets still in their leave grace, whose departure is yet to be announced.
   * `quiet`: Redis failed over (the lease held, or ran out only because the renewal waited for
   * the new master), which may have lost the last writes; said at debug only.
   */
  async reregister(announce: boolean, quiet = false): Promise<void> {
    let count = 0;
    for (const socket of this.localHolders()) {
      const entries = this.entries.get(socket);
      if (!entries) continue;
      for (const [channel, member] of entries.channels) {
        if (announce) await this.add(socket, channel, member);
        else await this.store.add(channel, entries.key, member);
        count++;
      }
    }
    if (!announce) {
      for (const { key, channels } of [...this.leaving.values()].map((pending) => pending.entries)) {
        for (const [channel, member] of channels) {
          await this.store.add(channel, key, member);
          count++;
        }
      }
    }
    if (count === 0) return;
    if (quiet) return this.log.debug(`Wrote ${count} membership(s) of this node again after a Redis failover`);
    const why = announce ? 'other nodes had purged them' : 'Redis had lost them';
    this.log.warn(`Presence lease had lapsed; registered ${count} membership(s) of this node again (${why})`);
  }

  /**
   * Graceful stop, then go quiet. Without a leave grace: remove this node's members while Redis
   * and the adapter still work. With one: its clients reconnect to other nodes within seconds
   * and add themselves again there, so removing and announcing now would show them leaving and
   * joining; the lease is set to end with the grace instead, and the other nodes' sweep purges
   * (and announces) whatever was not added again by then, the entries of disconnected sockets
   * still in their grace included. Without Redis, or past `timeoutMs`, the lease does it.
   */
  async release(timeoutMs: number): Promise<void> {
    try {
      const grace = this.config.leaveGraceMs;
      if (grace > 0) {
        for (const [timer, { settle }] of this.leaving) {
          clearTimeout(timer);
          settle();
        }
        this.leaving.clear();
      }
      if (!this.store.connected) return;
      if (grace > 0) {
        await withTimeout(this.store.holdLease(grace), timeoutMs);
        return;
      }
      this.announce(await withTimeout(this.store.purgeOwn(), timeoutMs));
    } finally {
      this.stopped = true;
    }
  }

  /** Removes entries of a disconnected socket, announcing the users that had no other socket left. */
  private async removeEntries({ key, channels }: SocketEntries): Promise<void> {
    // Room entries last: a channel's `member_removed` webhook comes before its `channel_vacated`.
    const ordered = [...channels.keys()].sort((a, b) => Number(isRoomKey(a)) - Number(isRoomKey(b)));
    await Promise.all(
      ordered.map(async (channel) => {
        try {
          const left = await this.store.remove(channel, key);
          if (left) this.announce([{ channel, member: left }]);
        } catch (err) {
          this.log.warn(`${key}: could not remove the presence member of ${channel}: ${(err as Error).message}`);
        }
      }),
    );
  }

  /** This node's connections of both protocols. */
  private *localHolders(): Iterable<PresenceHolder> {
    yield* this.sockets.localSockets();
    yield* this.pusher.all();
  }

  private entriesOf(socket: PresenceHolder): SocketEntries {
    let entries = this.entries.get(socket);
    if (!entries) {
      entries = { key: `${socket.id}.${randomBytes(6).toString('base64url')}`, channels: new Map() };
      this.entries.set(socket, entries);
    }
    return entries;
  }
}
