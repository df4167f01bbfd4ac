/**
 * Written against ws 8.21.3, engine.io 6.6.12, socket.io 4.8.3 and socket.io-parser 4.2.7 (see
 * WRITTEN_AGAINST in ./written-against.ts).
 *
 * Internals read (see `EngineConnection` below):
 * - socket.io: `server.encoder.encode(packet)` returning one string for a packet without binary,
 *   `namespace.adapter.rooms` (room → socket ids), `namespace.sockets` (id → socket), `socket.conn`;
 * - socket.io-parser: the EVENT packet type (2) and its string encoding;
 * - engine.io: `conn.protocol` (3 or 4), `conn.readyState`, `conn.writeBuffer`, `conn.transport.name` and `.socket` (the
 *   `ws` WebSocket), `conn.write(data, {preEncoded, wsPreEncodedFrame})`, MESSAGE packet type '4';
 * - ws: `WebSocket#readyState` (OPEN = 1), `_sender`, and on it `_state` (0 = idle), `_queue`,
 *   `_socket` (the `net.Socket`, whose `writableLength` is then all `ws` holds for the socket) and
 *   `sendFrame(list)`, which writes a one-buffer list as is.
 *
 * Contract: ./local-room-emitter.contract.test.ts (the frame format: ./local-room-emitter.test.ts).
 */
import type { Namespace, Server, Socket } from 'socket.io';
import { exceptedConnection } from './connection-ids.js';

/** socket.io-parser's EVENT packet type. */
const EVENT = 2;
/** Engine.IO's MESSAGE packet type, the same character in protocols 3 and 4. */
const ENGINE_MESSAGE = '4';
/** ws's `Sender` state in which it writes a frame straight away (no compression pending). */
const SENDER_IDLE = 0;

/** The TCP socket under a WebSocket (`net.Socket`). */
interface CorkableSocket {
  cork(): void;
  uncork(): void;
  /** Bytes written but not yet handed to the kernel (corked writes included). */
  readonly writableLength: number;
}

/**
 * The slow-consumer check of the fast path: a socket written to that then holds more than
 * `maxBufferedBytes` unwritten is handed to `onOverflow` once the room is done.
 */
export interface BufferLimit {
  maxBufferedBytes: number;
  onOverflow(socket: Socket, bufferedBytes: number): void;
}

/**
 * Told of every packet `LocalRoomEmitter` writes without socket.io's own emit: the socket, the
 * packet's arguments as that socket got them, and, when the frame went straight to the TCP socket,
 * its size (engine.io's `packetCreate` never saw it). For the Admin UI; unset, it costs one check.
 */
export type OutgoingObserver = (socket: Socket, data: readonly unknown[], unseenBytes: number | undefined) => void;

/**
 * What the fast path reads of engine.io's socket and of the `ws` WebSocket under its transport.
 * Partly private in the typings (engine.io itself uses `_sender.sendFrame` for pre-encoded frames),
 * so every member is checked before use and anything unexpected takes socket.io's own path.
 */
interface EngineConnection {
  /** The Engine.IO protocol revision: 4, or 3 for socket.io-client 2 (`allowEIO3`). */
  protocol: number;
  readyState: string;
  writeBuffer?: unknown[];
  transport: {
    name: string;
    socket?: {
      readyState: number;
      _sender?: {
        _state?: number;
        _queue?: unknown[];
        _socket?: CorkableSocket;
        sendFrame?: (list: Buffer[]) => void;
      };
    };
  };
  write(data: string, options: Record<string, unknown>): void;
}

/**
 * Emits `(event, ...args)` to one room's sockets on this node, encoded and framed once for all
 * recipients. socket.io's own broadcast also encodes once, but then walks engine.io's per-packet
 * machinery for every recipient (a packet object, a write buffer, two `flush` and two `drain`
 * events, a write callback and its `drain`/`ready` events afterwards). Here a socket whose
 * WebSocket is open with nothing queued gets the finished frame written to its TCP socket, in order
 * behind anything already written; every other socket (long-polling, upgrading, packets waiting
 * in engine.io's buffer, compression in progress) gets the packet through engine.io, which keeps
 * its ordering. Outgoing-packet listeners (`socket.onAnyOutgoing`) are not called, as echo-relay
 * registers none.
 *
 * A socket written to is corked until the current step of the event loop is done (a microtask),
 * so the frames one batch of Redis messages sends it leave in one write instead of one each: under
 * load, when a Redis read carries many messages, that saves system calls on both ends.
 *
 * With a `BufferLimit`, every frame written straight to a TCP socket is followed by one read of
 * that socket's `writableLength` (with the sender idle and engine.io's buffer empty, that is all
 * that is queued for it); sockets over the limit go to `onOverflow` after the loop. Packets handed
 * to engine.io are not checked here: `SlowConsumers` checks every engine.io write as it is made.
 *
 * A broadcast with a recovery offset has two encodings, with the offset for Engine.IO 4 sockets and
 * without it for Engine.IO 3 ones (see `emit`); each is still encoded and framed once per room.
 */
export class LocalRoomEmitter {
  private readonly nsp: Namespace;
  private readonly corked = new Set<CorkableSocket>();
  private observer?: OutgoingObserver;

  constructor(
    private readonly server: Server,
    private readonly limit?: BufferLimit,
  ) {
    this.nsp = server.sockets;
  }

  /** Reports each packet written from now on to `observer` (see `OutgoingObserver`). */
  observe(observer: OutgoingObserver): void {
    this.observer = observer;
  }

  /**
   * Emits `(event, ...args)` to the sockets in `room` on this node, except the one with id `except`;
   * returns how many sockets it was written to.
   *
   * With an `offset` (a broadcast's position in the recovery history), Engine.IO 4 sockets get it as
   * the last argument, `(event, ...args, offset)`, which socket.io-client >= 4.6 keeps as the offset
   * to reconnect from; Engine.IO 3 sockets (socket.io-client 2) get `(event, ...args)` as before.
   * Each variant is encoded and framed once, the one without the offset only when the room holds
   * an Engine.IO 3 socket. Without an offset the protocol is not read at all.
   */
  emit(room: string, except: string | undefined, event: string, args: readonly unknown[], offset?: string): number {
    const members = this.nsp.adapter.rooms.get(room);
    if (!members || members.size === 0) return 0;
    const packet = this.encode(offset === undefined ? [event, ...args] : [event, ...args, offset]);
    if (packet === undefined) return this.emitBinary(room, members, except, event, args, offset);
    const frame = [webSocketTextFrame(ENGINE_MESSAGE + packet)];
    // The same broadcast without its offset, for Engine.IO 3 sockets: built for the first of them.
    let eio3Packet: string | undefined;
    let eio3Frame: Buffer[] = frame;
    const max = this.limit?.maxBufferedBytes ?? Infinity;
    let overflowing: [Socket, number][] | undefined;
    let sent = 0;
    for (const id of members) {
      if (id === except) continue;
      const socket: Socket | undefined = this.nsp.sockets.get(id);
      if (!socket) continue;
      const conn = socket.conn as unknown as EngineConnection;
      let socketPacket = packet;
      let socketFrame = frame;
      if (offset !== undefined && conn.protocol !== 4) {
        if (eio3Packet === undefined) {
          // Leaving out a string cannot add binary: this is one string as well.
          eio3Packet = this.encode([event, ...args])!;
          eio3Frame = [webSocketTextFrame(ENGINE_MESSAGE + eio3Packet)];
        }
        socketPacket = eio3Packet;
        socketFrame = eio3Frame;
      }
      const ws = conn.transport.socket;
      const sender = ws?._sender;
      if (
        conn.readyState === 'open' &&
        conn.writeBuffer?.length === 0 &&
        conn.transport.name === 'websocket' &&
        ws?.readyState === 1 &&
        sender?._state === SENDER_IDLE &&
        sender._queue?.length === 0 &&
        typeof sender.sendFrame === 'function'
      ) {
        const tcp = sender._socket;
        this.cork(tcp);
        sender.sendFrame(socketFrame);
        if (tcp !== undefined && tcp.writableLength > max) (overflowing ??= []).push([socket, tcp.writableLength]);
        if (this.observer) this.report(socket, socketPacket !== packet, event, args, offset, socketFrame[0].length);
      } else {
        // The options socket.io's adapter passes for a pre-encoded broadcast.
        conn.write(socketPacket, { preEncoded: true, wsPreEncodedFrame: socketFrame });
        if (this.observer) this.report(socket, socketPacket !== packet, event, args, offset, undefined);
      }
      sent++;
    }
    if (overflowing) for (const [socket, bytes] of overflowing) this.limit!.onOverflow(socket, bytes);
    return sent;
  }

  /** Tells the observer what `socket` got: the offset left out for an Engine.IO 3 socket (`eio3`). */
  private report(
    socket: Socket,
    eio3: boolean,
    event: string,
    args: readonly unknown[],
    offset: string | undefined,
    unseenBytes: number | undefined,
  ): void {
    const data = offset === undefined || eio3 ? [event, ...args] : [event, ...args, offset];
    this.observer?.(socket, data, unseenBytes);
  }

  /** The EVENT packet holding `data` as one string, or `undefined` when binary attachments split it. */
  private encode(data: unknown[]): string | undefined {
    const encoded = this.server.encoder.encode({ type: EVENT, nsp: this.nsp.name, data }) as unknown[];
    return encoded.length === 1 && typeof encoded[0] === 'string' ? encoded[0] : undefined;
  }

  /**
   * Binary attachments need several engine packets: socket.io's own path sends them. With an
   * `offset`, once to the room's Engine.IO 3 sockets without it and once to the rest with it.
   */
  private emitBinary(
    room: string,
    members: ReadonlySet<string>,
    except: string | undefined,
    event: string,
    args: readonly unknown[],
    offset: string | undefined,
  ): number {
    const local = this.server.local;
    const excepted = exceptedConnection(except);
    const excluded = excepted === undefined ? [] : [excepted];
    if (offset === undefined) {
      local
        .to(room)
        .except(excluded)
        .emit(event, ...args);
    } else {
      const eio3: string[] = [];
      for (const id of members) {
        const socket = this.nsp.sockets.get(id);
        if (id !== except && socket && socket.conn.protocol !== 4) eio3.push(id);
      }
      // Every socket is in the room named by its id.
      if (eio3.length > 0) local.to(eio3).emit(event, ...args);
      local
        .to(room)
        .except([...excluded, ...eio3])
        .emit(event, ...args, offset);
    }
    return members.size - (except && members.has(except) ? 1 : 0);
  }

  private cork(socket: CorkableSocket | undefined): void {
    if (!socket || this.corked.has(socket)) return;
    if (this.corked.size === 0) queueMicrotask(this.uncorkAll);
    socket.cork();
    this.corked.add(socket);
  }

  private readonly uncorkAll = (): void => {
    for (const socket of this.corked) socket.uncork();
    this.corked.clear();
  };
}

/** One unmasked, final WebSocket text frame (RFC 6455 §5.2) holding `text`, header and payload in one buffer. */
export function webSocketTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (length < 126) {
    frame[1] = length;
  } else if (length < 0x10000) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.write(text, header, 'utf8');
  return frame;
}
