import type { BroadcastOperator, Server } from 'socket.io';
import type { WebSocket } from 'ws';
import type { PresenceMember } from '../channels/presence-directory.js';
import type { PusherApp } from './pusher-apps.js';
import { errorFrame } from './pusher-protocol.js';

/** ws's `readyState` of an open socket. */
const OPEN = 1;

/**
 * One pusher-js client. Its id (Pusher's `socket_id`) is also its name in the socket.io adapter's
 * rooms (see `PusherHub`), so `to(channel).except(id)` leaves it out on every node, as
 * `socket.to(channel)` does for a socket.io socket: presence and whispers take either.
 */
export class PusherConnection {
  /** Channels joined, each with the presence member it joined as (null: not a presence channel). */
  readonly channels = new Map<string, PresenceMember | null>();
  /** The user this connection signed in as (`pusher:signin`), if it did. */
  userId?: string;
  /** When the client last sent anything (ms), and when the server pinged it since (0: not pinged). */
  lastSeen = Date.now();
  pingedAt = 0;
  /** Channels whose frames are held back, each with what is held (see `hold`). */
  private held?: Map<string, string[]>;
  private heldBytes = 0;

  constructor(
    readonly id: string,
    readonly app: PusherApp,
    private readonly ws: WebSocket,
    private readonly io: () => Server,
    private readonly maxBufferedBytes: number,
  ) {}

  get connected(): boolean {
    return this.ws.readyState === OPEN;
  }

  /** The channel's other connections of both protocols, on every node. */
  to(room: string): BroadcastOperator<Record<string, never>, unknown> {
    return this.io().to(room).except(this.id);
  }

  /**
   * Sends one frame. A client that lets more than `limits.maxBufferedBytes` pile up unread is
   * dropped, as socket.io's slow consumers are: its memory is the server's.
   */
  send(frame: string): void {
    if (this.ws.readyState !== OPEN) return;
    this.ws.send(frame);
    if (this.ws.bufferedAmount > this.maxBufferedBytes) this.ws.terminate();
  }

  /** Sends a frame of `channel`, or holds it back while the channel is held. */
  sendOn(channel: string, frame: string): void {
    const queue = this.held?.get(channel);
    if (!queue) return this.send(frame);
    queue.push(frame);
    // Held frames are unread frames: the slow-consumer limit bounds them too.
    this.heldBytes += frame.length;
    if (this.heldBytes > this.maxBufferedBytes) this.ws.terminate();
  }

  /**
   * Holds the channel's frames back until `release` with the queue returned here: a cache
   * channel's cached event must be the first event its subscriber gets, and reading it takes a
   * Redis round trip during which live events may arrive.
   */
  hold(channel: string): readonly string[] {
    const queue: string[] = [];
    (this.held ??= new Map()).set(channel, queue);
    return queue;
  }

  /**
   * Sends `first`, then what was held, and stops holding the channel; nothing when the hold ended
   * meanwhile (an unsubscribe, or a newer subscribe's own hold). A held frame equal to `first` is
   * the same event, delivered live after it was cached: `first` is left out, not sent twice.
   */
  release(channel: string, queue: readonly string[], first?: string): void {
    if (this.held?.get(channel) !== queue) return;
    this.drop(channel);
    if (first !== undefined && !queue.includes(first)) this.send(first);
    for (const frame of queue) this.send(frame);
  }

  /** Stops holding the channel and forgets what was held (an unsubscribe). */
  drop(channel: string): void {
    const queue = this.held?.get(channel);
    if (!queue) return;
    this.held?.delete(channel);
    for (const frame of queue) this.heldBytes -= frame.length;
  }

  error(code: number | null, message: string): void {
    this.send(errorFrame(code, message));
  }

  /** Tells the client why, then closes with that code (Pusher clients act on the close code). */
  close(code: number, message: string): void {
    if (this.ws.readyState !== OPEN) return;
    this.ws.send(errorFrame(code, message));
    this.ws.close(code, message);
  }
}
