import { Injectable, Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { ChannelAuthService } from '../auth/channel-auth.service.js';
import { headerBytes, stringHeaders } from '../common/http-headers.js';
import type { ChannelRequest } from '../gateway/channel-request.pipe.js';
import { SubscriptionDenied, SubscriptionIgnored } from '../gateway/client-errors.js';
import { LimitsConfig } from '../limits/limits.config.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import type { SessionState } from '../recovery/recovery-log.js';
import { RecoverySessions, type ChannelsSnapshot } from '../recovery/recovery-sessions.js';
import { channelRoom } from './channel-room.js';
import { requiresAuthorization, serverToUserId } from './channel-type.js';
import type { PresenceMember } from './presence-directory.js';
import { userKey } from './presence-member.js';
import { PresenceService } from './presence.service.js';
import { ROOM_MEMBER, roomKey } from './room-entry.js';
import { WebhooksConfig } from '../webhooks/webhooks.config.js';
import { anyTargetWants } from '../webhooks/webhook-targets.js';

/**
 * One subscribe between its arrival and its join; current while it is the channel's pending entry.
 * Aborted when it is taken back (an unsubscribe, a disconnect): its auth call is then abandoned,
 * waiting or in flight, so a socket that leaves leaves no call of its own behind.
 */
type SubscribeAttempt = AbortController;

/** What this node knows about one socket's channels. */
interface SocketChannels {
  /** Rooms joined through `subscribe` (or restored with a recovered session). */
  joined: Set<string>;
  /** The presence member of each joined presence channel, as the app named it (made on the first). */
  members?: Map<string, PresenceMember>;
  /** Subscribes in flight (waiting for an unsubscribe, the auth call, the presence store), by channel. */
  pending: Map<string, SubscribeAttempt>;
  /**
   * Unsubscribes in progress, by channel: a later subscribe of that channel waits for them. Made on
   * the first unsubscribe: most sockets (a reconnect storm's) never send one.
   */
  leaving?: Map<string, Promise<unknown>>;
  /** Subscribes still running, current or abandoned (a late auth answer, a presence write). */
  running: number;
  /** Authorisations of this socket in flight (at most `limits.maxPendingAuthPerSocket`). */
  authorizing: number;
  /** Subscribes waiting for an auth slot, in the order they arrived (made on the first). */
  authQueue?: AuthTurn[];
}

/** A subscribe waiting for one of its socket's auth slots; `start(false)` abandons it. */
interface AuthTurn {
  channel: string;
  start(granted: boolean): void;
}

/**
 * The one owner of the subscribe path: per socket, which channels it joined and which subscribes
 * are in flight; per socket and channel, the order of subscribes and unsubscribes; the auth call;
 * the room join and leave; and when a presence member is added or removed (`PresenceService`
 * keeps its own record of what it wrote to the store, which its lease renewal writes again).
 *
 * - Repeated subscribes cost at most one auth call and never add a second membership: a joined
 *   channel is not asked again, and a second subscribe while one is in flight is ignored.
 * - A subscribe is registered the moment it arrives. An unsubscribe or a disconnect abandons it,
 *   and a late auth answer then joins nothing.
 * - A subscribe waits for the unsubscribes of its channel that arrived before it, so
 *   `unsubscribe` then `subscribe` ends subscribed. Other channels are not held up.
 * - Presence: the socket is in the room before the member list is read, and `presence:subscribed`
 *   goes out before any newer `presence:joining` (see `PresenceService.add`).
 * - Limits: at most `limits.maxChannelsPerSocket` channels joined or in flight (past it
 *   `subscription_error` 429), and at most `limits.maxPendingAuthPerSocket` auth calls in flight;
 *   further subscribes wait for a slot in the order they arrived, and an unsubscribe or a
 *   disconnect takes a waiting one back before it costs an auth call.
 *
 * There is no auth guard: the yes is only worth something to the join it belongs to (the
 * presence member it names, an unsubscribe that overtakes it), so a guard had to hand it to the
 * handler through shared per-socket state; and a guard on `subscribe` alone delays it behind a
 * later `unsubscribe`. Here the request arrives parsed once (`ChannelRequestPipe`), and
 * `subscribe` and `unsubscribe` reach this class through the same Nest pipeline, in the order the
 * client sent them; both register here before their first await.
 */
@Injectable()
export class ChannelSubscriptions {
  private readonly log = new Logger('Gateway');
  /** Per socket, dropped with it; private, so every change to it goes through this class. */
  private readonly sockets = new WeakMap<Socket, SocketChannels>();
  /**
   * Whether every joined channel is also counted in the presence store (a room entry), for the
   * `channel_occupied` / `channel_vacated` webhooks. Off without them: it costs a Redis call per
   * subscribe and unsubscribe.
   */
  private readonly countRooms: boolean;

  constructor(
    private readonly auth: ChannelAuthService,
    private readonly presence: PresenceService,
    private readonly limits: LimitsConfig,
    private readonly metrics: RelayMetrics,
    private readonly sessions: RecoverySessions,
    webhooks: WebhooksConfig,
  ) {
    this.countRooms = anyTargetWants(webhooks, ['channel_occupied', 'channel_vacated']);
  }

  /**
   * Authorises (private and presence channels) and joins. True when the socket joined; false when
   * it already was a member or left meanwhile. Throws `SubscriptionDenied` (the client is told)
   * or `SubscriptionIgnored` (debug only).
   */
  async subscribe(socket: Socket, { channel, headers }: ChannelRequest): Promise<boolean> {
    const state = this.stateOf(socket);
    if (state.joined.has(channel)) return false;
    const needsAuth = requiresAuthorization(channel);
    if (state.pending.has(channel)) {
      if (needsAuth) throw new SubscriptionIgnored(channel, 'already being authorised');
      return false;
    }
    if (serverToUserId(channel) !== undefined) {
      // A Pusher user's own channel (`sendToUser`): a socket.io client signs in as nobody.
      this.metrics.subscriptionsRefused.inc({ reason: 'server_to_user' });
      throw new SubscriptionDenied(channel, 403, `subscription to "${channel}" refused: a Pusher user's channel`);
    }
    if (this.channelsHeld(state) >= this.limits.maxChannelsPerSocket) {
      this.metrics.subscriptionsRefused.inc({ reason: 'max_channels' });
      throw new SubscriptionDenied(channel, 429, `subscription to "${channel}" refused: too many channels`);
    }
    if (needsAuth && this.authHeaderBytes(socket, headers) > this.limits.maxAuthHeaderBytes) {
      this.metrics.subscriptionsRefused.inc({ reason: 'auth_headers_too_large' });
      throw new SubscriptionDenied(channel, 431, `subscription to "${channel}" refused: auth headers too large`);
    }
    const attempt: SubscribeAttempt = new AbortController();
    state.pending.set(channel, attempt);
    state.running++;
    try {
      const earlier = state.leaving?.get(channel);
      if (earlier) await earlier;
      // A later unsubscribe (or a disconnect) took it back while it waited: no auth call.
      if (!this.isCurrent(socket, state, channel, attempt)) return false;
      if (!needsAuth) return await this.enter(socket, channel);
      return await this.authorizeAndJoin(socket, state, { channel, headers }, attempt);
    } finally {
      state.running--;
      if (state.pending.get(channel) === attempt) state.pending.delete(channel);
    }
  }

  /** Leaves the room, abandons a subscribe in flight, and removes the presence member. */
  unsubscribe(socket: Socket, channel: string): Promise<void> {
    const state = this.stateOf(socket);
    const leaving = (state.leaving ??= new Map<string, Promise<unknown>>());
    const earlier = leaving.get(channel);
    const leave = this.leave(socket, channel);
    const done = earlier ? Promise.all([earlier, leave]).then(() => undefined) : leave;
    // Later subscribes wait for this one whatever its outcome; the caller sees its failure.
    const settled = done.catch(() => undefined);
    leaving.set(channel, settled);
    void settled.then(() => {
      if (leaving.get(channel) === settled) leaving.delete(channel);
    });
    return leave;
  }

  /**
   * A recovered socket: socket.io restored its rooms; its channels and presence members become
   * this node's, without asking the app again. Presence members are added back under this
   * connection's own entry (the others see them join unless `presence.leaveGraceMs` kept the old
   * entry) and the socket gets the current member list, since it may have missed joins and leaves.
   */
  async adopt(socket: Socket, { channels, members }: SessionState): Promise<void> {
    const state = this.stateOf(socket);
    for (const channel of channels) {
      state.joined.add(channel);
      this.countRoom(socket, channel);
    }
    await Promise.all(
      Object.entries(members).map(async ([channel, member]) => {
        if (!state.joined.has(channel)) return;
        (state.members ??= new Map<string, PresenceMember>()).set(channel, member as PresenceMember);
        try {
          await this.presence.rejoin(socket, channel, member as PresenceMember, (list) => {
            if (socket.connected && state.joined.has(channel)) socket.emit('presence:subscribed', channel, list);
          });
        } catch (err) {
          this.log.error(`${socket.id}: presence store failed for recovered ${channel}: ${(err as Error).message}`);
          await this.leave(socket, channel).catch(() => undefined);
          socket.emit('subscription_error', channel, 503);
        }
      }),
    );
  }

  /**
   * Everything a disconnected socket held, on this node and in the presence store. Its session is
   * saved first (while it still names the channels and members), for a recovery. Its presence
   * entries go to `PresenceService.disconnected` (at once, or after `presence.leaveGraceMs`):
   * once it took them, the leaves below remove no presence member.
   */
  async leaveAll(socket: Socket, reason = ''): Promise<void> {
    const state = this.sockets.get(socket);
    this.sessions.disconnected(socket, reason, this.snapshot(state));
    const presence = this.presence.disconnected(socket);
    const channels = new Set([...(state?.joined ?? []), ...(state?.pending.keys() ?? [])]);
    await Promise.all([
      presence,
      ...[...channels].map((channel) =>
        this.leave(socket, channel).catch((err: Error) =>
          this.log.warn(`${socket.id}: could not leave ${channel}: ${err.message}`),
        ),
      ),
    ]);
  }

  /**
   * Whether a subscribe or unsubscribe of the socket is still running: until it is not, what it
   * joined may still change. Specs wait on it instead of on time.
   */
  busy(socket: Socket): boolean {
    const state = this.sockets.get(socket);
    return state !== undefined && (state.running > 0 || (state.leaving?.size ?? 0) > 0);
  }

  /** The socket's presence member in the channel, if it joined it as one (a whisper's `user_id`). */
  memberOf(socket: Socket, channel: string): PresenceMember | undefined {
    return this.sockets.get(socket)?.members?.get(channel);
  }

  /** Whether the socket is in a presence channel as this user (Pusher's `terminate_connections`). */
  isUser(socket: Socket, userId: string): boolean {
    for (const member of this.sockets.get(socket)?.members?.values() ?? []) {
      if (userKey(member) === userId) return true;
    }
    return false;
  }

  /** Whether the socket joined the channel through `subscribe` (whispers are for members only). */
  isMember(socket: Socket, channel: string): boolean {
    return this.sockets.get(socket)?.joined.has(channel) ?? false;
  }

  private async authorizeAndJoin(
    socket: Socket,
    state: SocketChannels,
    { channel, headers }: ChannelRequest,
    attempt: SubscribeAttempt,
  ): Promise<boolean> {
    if (!(await this.authSlot(state, channel))) return false;
    // Taken back between the slot's hand-over and this turn: no auth call.
    if (!this.isCurrent(socket, state, channel, attempt)) {
      this.releaseAuthSlot(state);
      return false;
    }
    let decision;
    try {
      decision = await this.auth.authorize(socket, channel, headers, attempt.signal);
    } finally {
      this.releaseAuthSlot(state);
    }
    if (!this.isCurrent(socket, state, channel, attempt)) {
      throw new SubscriptionIgnored(channel, 'socket left during authorisation');
    }
    if (!decision.allowed) throw new SubscriptionDenied(channel, decision.status);
    if (!decision.member) return this.enter(socket, channel);
    (state.members ??= new Map<string, PresenceMember>()).set(channel, decision.member);
    await this.joinPresence(socket, state, channel, attempt, decision.member);
    return state.joined.has(channel);
  }

  private async joinPresence(
    socket: Socket,
    state: SocketChannels,
    channel: string,
    attempt: SubscribeAttempt,
    member: PresenceMember,
  ): Promise<void> {
    // In the room before the member list is read: every member added after that read announces
    // itself to this socket with presence:joining. Entering after the read missed those who joined
    // in between, and their absence from this socket's list lasted until they left.
    await this.enter(socket, channel);
    try {
      await this.presence.add(socket, channel, member, (members) => {
        // Left while the store was written: that leave removed the member and the room again.
        if (this.isCurrent(socket, state, channel, attempt)) socket.emit('presence:subscribed', channel, members);
      });
    } catch (err) {
      this.log.error(`${socket.id}: presence store failed for ${channel}: ${(err as Error).message}`);
      await this.leave(socket, channel).catch(() => undefined);
      throw new SubscriptionDenied(channel, 503);
    }
  }

  /**
   * Waits for one of the socket's auth slots, first come first served. False when the subscribe
   * was taken back (unsubscribe, disconnect) while it waited: it never made its auth call.
   */
  private authSlot(state: SocketChannels, channel: string): Promise<boolean> {
    if (state.authorizing < this.limits.maxPendingAuthPerSocket) {
      state.authorizing++;
      return Promise.resolve(true);
    }
    this.metrics.authWaiting.inc({ limit: 'socket' });
    return new Promise((resolve) => (state.authQueue ??= []).push({ channel, start: resolve }));
  }

  /** Frees a slot and hands it to the oldest waiting subscribe. */
  private releaseAuthSlot(state: SocketChannels): void {
    state.authorizing--;
    const next = state.authQueue?.shift();
    if (!next) return;
    this.metrics.authWaiting.dec({ limit: 'socket' });
    state.authorizing++;
    next.start(true);
  }

  /** Takes a subscribe of `channel` that waits for an auth slot out of the queue. */
  private abandonAuthTurn(state: SocketChannels, channel: string): void {
    const queue = state.authQueue;
    const index = queue?.findIndex((turn) => turn.channel === channel) ?? -1;
    if (index < 0) return;
    const [turn] = queue!.splice(index, 1);
    this.metrics.authWaiting.dec({ limit: 'socket' });
    turn.start(false);
  }

  private async leave(socket: Socket, channel: string): Promise<void> {
    const state = this.stateOf(socket);
    state.pending.get(channel)?.abort();
    state.pending.delete(channel);
    this.abandonAuthTurn(state, channel);
    state.members?.delete(channel);
    // The subscriptions gauge follows the adapter's join-room/leave-room events (MetricsFeeds).
    // A disconnected socket has left its rooms already, and its id may be a recovered socket's now.
    if (state.joined.delete(channel) && socket.connected) {
      await socket.leave(channelRoom(channel));
      this.sessions.changed(socket, () => this.snapshot(state));
    }
    await this.presence.remove(socket, channel);
    if (this.countRooms) await this.presence.remove(socket, roomKey(channel));
  }

  private async enter(socket: Socket, channel: string): Promise<true> {
    const state = this.stateOf(socket);
    state.joined.add(channel);
    this.countRoom(socket, channel);
    await socket.join(channelRoom(channel));
    this.sessions.joined(socket, channel);
    this.sessions.changed(socket, () => this.snapshot(state));
    return true;
  }

  /**
   * Counts the socket in the channel's room entry, without waiting: the subscribe does not depend
   * on it, and the leave that may follow goes through the same Redis connection after it.
   */
  private countRoom(socket: Socket, channel: string): void {
    if (!this.countRooms) return;
    this.presence.add(socket, roomKey(channel), ROOM_MEMBER).catch((err: Error) => {
      this.log.warn(`${socket.id}: could not count ${channel} for the occupancy webhooks: ${err.message}`);
    });
  }

  private snapshot(state: SocketChannels | undefined): ChannelsSnapshot {
    if (!state) return { channels: [], members: {} };
    return { channels: [...state.joined], members: state.members ? Object.fromEntries(state.members) : {} };
  }

  private stateOf(socket: Socket): SocketChannels {
    let state = this.sockets.get(socket);
    if (!state) {
      state = {
        joined: new Set(),
        pending: new Map(),
        running: 0,
        authorizing: 0,
      };
      this.sockets.set(socket, state);
    }
    return state;
  }

  /**
   * What the auth call of this subscribe would forward from the client: its headers, and those of
   * the CONNECT payload it does not override (any case), as `forwardedHeaders` merges them.
   */
  private authHeaderBytes(socket: Socket, headers: Record<string, string>): number {
    const own = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
    const connect = Object.entries(stringHeaders(socket.handshake.auth)).filter(
      ([name]) => !own.has(name.toLowerCase()),
    );
    return headerBytes(headers) + headerBytes(Object.fromEntries(connect));
  }

  /**
   * Channels the socket holds, joined or in flight, each once: a subscribe is joined as it enters
   * the room and in flight until it returns, and the subscribes of one read from the socket all
   * enter before the first of them returns.
   */
  private channelsHeld(state: SocketChannels): number {
    const upper = state.joined.size + state.pending.size;
    if (upper < this.limits.maxChannelsPerSocket) return upper;
    let held = state.joined.size;
    for (const channel of state.pending.keys()) if (!state.joined.has(channel)) held++;
    return held;
  }

  /** True while `attempt` is still the subscribe in flight for `channel` on a connected socket. */
  private isCurrent(socket: Socket, state: SocketChannels, channel: string, attempt: SubscribeAttempt): boolean {
    return socket.connected && state.pending.get(channel) === attempt;
  }
}
