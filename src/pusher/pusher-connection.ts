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
  /** When the client last sent anything (ms), and when the server pinged it since (0: not pinged). */
  lastSeen = Date.now();
  pingedAt = 0;

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
