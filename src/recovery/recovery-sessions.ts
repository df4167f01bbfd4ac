import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Socket, type Server } from 'socket.io';
import { channelRoom } from '../channels/channel-room.js';
import { SocketServer } from '../gateway/socket-server.js';
import {
  installRecoveryHandshake,
  newSessionId,
  sessionIdOf,
  type PreviousSession,
} from '../internals/recovery-handshake.js';
import { addressKey } from '../limits/address-key.js';
import { clientAddress } from '../limits/connection-limiter.js';
import { LimitsConfig } from '../limits/limits.config.js';
import { NodeConnections } from '../limits/node-connections.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { compareOffsets, isOffset, type Offset } from './offsets.js';
import { RecoveryLog, type HistoryEntry, type SessionState } from './recovery-log.js';
import { RecoveryFeed } from './recovery-feed.js';
import { KeptSessionBudget } from './kept-session-budget.js';
import { RecoveryConfig } from './recovery.config.js';

/** socket.io's disconnect reasons after which a client reconnects by itself (and may recover). */
const RECOVERABLE = new Set([
  'transport error',
  'transport close',
  'forced close',
  'ping timeout',
  'server shutting down',
  'forced server close',
]);

/** This node's own graceful stop: its clients come back elsewhere, all at once, whatever their address. */
const SHUTDOWN = 'server shutting down';

/** Disconnect reasons after which no client comes back for the session: it is deleted. */
const ENDED = new Set(['client namespace disconnect', 'server namespace disconnect']);

/** What a socket joined: its channels and, on presence channels, the member the app named. */
export interface ChannelsSnapshot {
  channels: string[];
  members: Record<string, unknown>;
}

/**
 * Sessions of Engine.IO 4 sockets in Redis, and their restore (see README "Missed events"). A
 * socket's session is written when its channels change and when it disconnects, so a client whose
 * node was killed still finds it; sessions of connected sockets are kept alive every
 * `windowMs / 4`. A restore hands socket.io the socket's id and channels and the broadcasts it
 * missed: those the history holds after the client's offset, up to what this node has delivered
 * (`RecoveryFeed.position`); what the history holds beyond that this node has not delivered yet,
 * and delivers to the restored socket as it does to the others.
 */
@Injectable()
export class RecoverySessions implements OnApplicationShutdown {
  private readonly log = new Logger('Recovery');
  private readonly throttled = new ThrottledLog(this.log);
  /** Per socket object: the token that owns its session in Redis (one per connection). */
  private readonly owners = new WeakMap<Socket, string>();
  /** Sockets whose session was written, kept alive by the refresh. */
  private readonly saved = new WeakSet<Socket>();
  /** Restored sessions between the restore and the socket's creation, by socket id. */
  private readonly restoring = new Map<string, SessionState>();
  /** What restored sockets had joined, until the gateway adopts it. */
  private readonly restored = new WeakMap<Socket, SessionState>();
  /**
   * Per socket, this node's position when it joined each channel (`SessionState.since`): saved
   * with its session instead of being sent to the client, which costs no packet per subscribe.
   */
  private readonly joinedAt = new WeakMap<Socket, Record<string, Offset>>();
  private timer?: NodeJS.Timeout;
  private readonly refreshMs: number;
  /** `limits.maxRecoveryBytesPerIp`: sessions kept after drops, per client address; none when `0`. */
  private readonly budget?: KeptSessionBudget;

  constructor(
    private readonly config: RecoveryConfig,
    private readonly history: RecoveryLog,
    private readonly feed: RecoveryFeed,
    private readonly sockets: SocketServer,
    private readonly metrics: RelayMetrics,
    limits: LimitsConfig,
    private readonly connections: NodeConnections,
  ) {
    this.refreshMs = Math.max(1_000, Math.floor(config.windowMs / 4));
    if (limits.maxRecoveryBytesPerIp > 0) {
      this.budget = new KeptSessionBudget(limits.maxRecoveryBytesPerIp, config.windowMs);
    }
  }

  get enabled(): boolean {
    return this.config.enabled;
  }

  /** Hooks the handshake of the socket.io server (the gateway calls it once the server exists). */
  attach(server: Server): void {
    if (!this.config.enabled) return;
    installRecoveryHandshake(server.sockets, Socket as never, {
      restore: (pid, offset) => this.restore(pid, offset),
      created: (socket) => this.created(socket),
    });
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  /** The channels a restored socket had joined, once (the gateway hands them to `ChannelSubscriptions`). */
  takeRestored(socket: Socket): SessionState | undefined {
    const state = this.restored.get(socket);
    this.restored.delete(socket);
    return state;
  }

  /**
   * The socket joined or left a channel: its session now says so. `snapshot` is called when the
   * session is written, with the socket's channels then (see `RecoveryLog.saveSession`).
   */
  changed(socket: Socket, snapshot: () => ChannelsSnapshot): void {
    this.save(socket, snapshot, this.config.windowMs + this.refreshMs);
  }

  /**
   * The socket joined `channel`: remembers how far this node had delivered then, so that a
   * restore delivers nothing of the channel from before (and has a position to read from when
   * the client received no broadcast yet). Before `changed`, which saves it.
   */
  joined(socket: Socket, channel: string): void {
    const position = this.feed.position;
    if (!this.config.enabled || position === undefined || sessionIdOf(socket) === undefined) return;
    let since = this.joinedAt.get(socket);
    if (!since) this.joinedAt.set(socket, (since = {}));
    since[channel] = position;
  }

  /**
   * The socket is gone: after a drop its session stays restorable for `windowMs`, within its
   * address's `limits.maxRecoveryBytesPerIp`; after the client or the server ended it, or past that
   * limit, nobody comes back for it (or the client reconnects fresh) and it is deleted at once.
   */
  disconnected(socket: Socket, reason: string, snapshot: ChannelsSnapshot): void {
    if (!this.saved.has(socket) && snapshot.channels.length === 0) return;
    if (RECOVERABLE.has(reason)) {
      if (this.withinBudget(socket, reason, snapshot)) this.save(socket, snapshot, this.config.windowMs);
      else this.drop(socket);
    } else if (ENDED.has(reason)) this.drop(socket);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private created(socket: Socket): void {
    const state = socket.recovered ? this.restoring.get(socket.id) : undefined;
    this.restoring.delete(socket.id);
    if (!state) return;
    this.restored.set(socket, state);
    if (state.since) this.joinedAt.set(socket, { ...state.since });
    // The new connection owns the session from now on; an older one's late writes are refused.
    this.save(
      socket,
      { channels: state.channels, members: state.members },
      this.config.windowMs + this.refreshMs,
      true,
    );
  }

  private async restore(pid: string, given: string | undefined): Promise<PreviousSession | undefined> {
    if (given !== undefined && !isOffset(given)) return this.fail('invalid_offset');
    // A node that has not read the history yet (just started, or its Redis still connecting) could
    // not tell what the client missed, and the script below claims the session, which a failed
    // restore throws away: the handshake waits for the read. After a deploy every client of the
    // node comes back within seconds of its start, some before that read.
    if (this.feed.position === undefined && !(await this.feed.started(START_WAIT_MS))) return this.fail('starting');
    let result;
    try {
      result = await this.history.restore(pid, given);
    } catch (err) {
      this.throttled.warn('restore', `Could not restore a session: ${(err as Error).message}`);
      return this.fail('error');
    }
    if (!result.ok) return this.fail(result.reason);
    const { session, from: offset } = result;
    const channels = new Set(session.channels);
    let { entries, last } = result;
    let missed: [Offset, HistoryEntry][] | undefined;
    for (let read = 0; missed === undefined; read++) {
      // From here to the socket's creation no I/O runs: this node's position cannot move meanwhile.
      const position = this.feed.position;
      if (position === undefined) return this.fail('error');
      if (compareOffsets(position, offset) < 0) {
        // The client comes from a node that was ahead of this one: what lies between this node's
        // position and the client's offset the client has, and this node is about to deliver.
        if (read === MAX_READS || !(await this.feed.reach(offset, REACH_MS))) return this.fail('error');
        continue;
      }
      if (compareOffsets(position, last) <= 0) {
        // What lies beyond the position is on its way to this node: the socket gets it as a member.
        missed = entries.filter(([offset]) => compareOffsets(offset, position) <= 0);
        break;
      }
      // This node delivered more since the history was read: from memory, or read again.
      const later = this.feed.since(last);
      if (later) {
        missed = [...entries, ...later.filter(([, entry]) => channels.has(entry.c))];
        break;
      }
      if (read === MAX_READS) return this.fail('error');
      try {
        const page = await this.history.after(last, READ_PAGE);
        if (page.length === 0) return this.fail('error');
        entries = [...entries, ...page.filter(([, entry]) => channels.has(entry.c))];
        last = page[page.length - 1][0];
      } catch (err) {
        this.throttled.warn('restore', `Could not restore a session: ${(err as Error).message}`);
        return this.fail('error');
      }
    }
    // An older connection of this session still open here (its end not noticed yet) goes first:
    // two sockets of one id on one node would share rooms.
    this.sockets.io.sockets.sockets.get(session.sid)?.disconnect(true);
    this.restoring.set(session.sid, session);
    const since = session.since ?? {};
    const packets = missed
      .filter(([at, entry]) => entry.s !== session.sid && joinedBefore(since[entry.c], at))
      .map(toPacket);
    this.metrics.recoveries.inc({ result: 'recovered', reason: '' });
    this.metrics.recoveryReplayed.inc(packets.length);
    // socket.io joins these rooms itself, before the gateway adopts the channels.
    const rooms = session.channels.map(channelRoom);
    return { sid: session.sid, pid, rooms, data: {}, missedPackets: packets };
  }

  /**
   * Whether the session of a dropped socket may be kept: its JSON, charged to the client's address
   * for the window. A graceful stop's are always kept (a deploy; no client can cause it).
   */
  private withinBudget(socket: Socket, reason: string, snapshot: ChannelsSnapshot): boolean {
    if (!this.budget || reason === SHUTDOWN || !this.config.enabled || sessionIdOf(socket) === undefined) return true;
    const { address, headers } = socket.handshake;
    const from = clientAddress(address, headers['x-forwarded-for'], this.connections.trustedProxies);
    const bytes = Buffer.byteLength(JSON.stringify(this.stateOf(socket, snapshot))) + SESSION_OVERHEAD;
    if (this.budget.charge(from, bytes)) return true;
    this.metrics.recoverySessionsNotKept.inc();
    this.throttled.warn(
      'budget',
      `Not keeping recovery sessions of ${addressKey(from)}: over limits.maxRecoveryBytesPerIp (${this.budget.maxBytes} bytes) within recovery.windowMs`,
    );
    return false;
  }

  private fail(reason: string): undefined {
    this.metrics.recoveries.inc({ result: 'failed', reason });
    return undefined;
  }

  private save(
    socket: Socket,
    snapshot: ChannelsSnapshot | (() => ChannelsSnapshot),
    ttlMs: number,
    force = false,
  ): void {
    const pid = sessionIdOf(socket);
    if (!this.config.enabled || pid === undefined) return;
    // Made on the first save, not for every connection: most sockets that never subscribe need none.
    let owner = this.owners.get(socket);
    if (owner === undefined) this.owners.set(socket, (owner = newSessionId()));
    this.saved.add(socket);
    const state = (): SessionState => this.stateOf(socket, typeof snapshot === 'function' ? snapshot() : snapshot);
    this.history
      .saveSession(pid, owner, state, ttlMs, force)
      .catch((err: Error) => this.throttled.warn('save', `Could not save a recovery session: ${err.message}`));
  }

  private drop(socket: Socket): void {
    const pid = sessionIdOf(socket);
    const owner = this.owners.get(socket);
    if (!this.config.enabled || pid === undefined || owner === undefined) return;
    this.saved.delete(socket);
    this.history
      .dropSession(pid, owner)
      .catch((err: Error) => this.throttled.warn('save', `Could not delete a recovery session: ${err.message}`));
  }

  /** The session a socket's channels and members make, as saved. */
  private stateOf(socket: Socket, { channels, members }: ChannelsSnapshot): SessionState {
    return { sid: socket.id, channels, members, since: this.sinceOf(socket, channels) };
  }

  /** The join positions of the channels the socket is in now; those it left are forgotten. */
  private sinceOf(socket: Socket, channels: string[]): Record<string, Offset> {
    const known = this.joinedAt.get(socket);
    const since: Record<string, Offset> = {};
    if (!known) return since;
    for (const channel of channels) if (known[channel] !== undefined) since[channel] = known[channel];
    this.joinedAt.set(socket, since);
    return since;
  }

  private async refresh(): Promise<void> {
    const pids: string[] = [];
    for (const socket of this.sockets.localSockets()) {
      const pid = sessionIdOf(socket);
      if (pid !== undefined && this.saved.has(socket)) pids.push(pid);
    }
    await this.history
      .touchSessions(pids, this.config.windowMs + this.refreshMs)
      .catch((err: Error) => this.throttled.warn('refresh', `Could not extend recovery sessions: ${err.message}`));
  }
}

/**
 * Longest a restore waits for a node that has not read the history yet; within socket.io's
 * `connectTimeout` (45 s), and the client gets a fresh connection after it.
 */
const START_WAIT_MS = 10_000;
/** What a session takes in Redis besides its JSON, counted against `limits.maxRecoveryBytesPerIp`: its owner token, its key. */
const SESSION_OVERHEAD = 128;
/** History reads of one restore racing a node that delivers faster than it reads. */
const MAX_READS = 20;
/** Longest wait for this node to deliver as far as a client that comes from a node ahead of it. */
const REACH_MS = 2_000;
const READ_PAGE = 1_000;

/** Whether an entry at `offset` came after the join at `since` (no join position: it did). */
function joinedBefore(since: Offset | undefined, offset: Offset): boolean {
  return since === undefined || compareOffsets(offset, since) > 0;
}

function toPacket([offset, entry]: [Offset, HistoryEntry]): unknown[] {
  return [entry.e, entry.c, entry.d, offset];
}
