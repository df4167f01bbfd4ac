import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Server } from 'socket.io';
import { closeAtOnce, packetBytes, type Connection } from '../internals/buffered-bytes.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { SocketServer } from './socket-server.js';

/** engine.io's socket as seen here: what `closeAtOnce` needs, plus its id, protocol and packets. */
interface WatchedConnection extends Connection {
  id: string;
  protocol: number;
  on(event: 'packet', listener: (this: WatchedConnection, packet: EnginePacket) => void): unknown;
}

/** An engine.io packet, as its `packet` event hands it over. */
interface EnginePacket {
  type: string;
  data?: unknown;
}

/**
 * A socket.io packet with binary attachments arrives in pieces: its text header, then one engine.io
 * message per attachment, which socket.io's parser holds until the last one has come. Each piece
 * may be as large as one packet (`maxHttpBufferSize`, 1 MB by default), and a header may announce
 * ten of them: a client that never sent the last one kept about 10 MB per connection for as long
 * as it stayed connected. Here the attachments of one packet together may be no larger than one
 * packet: past that the connection is closed at once, as engine.io closes one whose single message
 * is too large, logged (throttled) and counted in `echo_relay_oversized_disconnects_total{protocol}`.
 * No client of echo-relay needs more: its only binary input, a whisper, is dropped beyond
 * `limits.maxWhisperBytes`, which `maxHttpBufferSize` is raised to cover.
 */
@Injectable()
export class UnfinishedPackets implements OnApplicationBootstrap {
  private readonly log = new ThrottledLog(new Logger('UnfinishedPackets'));

  constructor(
    private readonly metrics: RelayMetrics,
    private readonly sockets: SocketServer,
  ) {}

  /** The socket.io server exists from here on (the gateway attached it in `afterInit`). */
  onApplicationBootstrap(): void {
    this.watch(this.sockets.io);
  }

  watch(server: Server): void {
    const limit = (server.engine as unknown as { opts: { maxHttpBufferSize: number } }).opts.maxHttpBufferSize;
    // Attachment bytes since the last text message, of the connections that sent any: a text
    // message completes nothing that is pending (socket.io's parser refuses it then and the
    // connection ends), so it starts afresh. One listener for every connection (engine.io calls it
    // with the connection as `this`), and nothing kept for one that sends no binary message: a
    // closure per connection was the one thing this cost a reconnect storm.
    const pending = new WeakMap<WatchedConnection, number>();
    const disconnect = (conn: WatchedConnection, bytes: number): void => this.disconnect(conn, bytes, limit);
    function onPacket(this: WatchedConnection, packet: EnginePacket): void {
      if (packet.type !== 'message') return;
      if (typeof packet.data === 'string') {
        pending.delete(this);
        return;
      }
      const bytes = (pending.get(this) ?? 0) + packetBytes(packet) - 1;
      pending.set(this, bytes);
      if (bytes > limit && this.readyState !== 'closed') disconnect(this, bytes);
    }
    server.engine.on('connection', (conn: WatchedConnection) => conn.on('packet', onPacket));
  }

  private disconnect(conn: WatchedConnection, bytes: number, limit: number): void {
    const protocol = conn.protocol === 3 ? 'eio3' : 'eio4';
    closeAtOnce(conn);
    this.metrics.oversizedDisconnects.inc({ protocol });
    this.log.warn(
      `oversized:${protocol}`,
      `disconnected a client (${protocol}, ${conn.transport.name}, engine.io id ${conn.id}) whose packet's ` +
        `binary attachments reached ${bytes} bytes, over the ${limit} one packet may have (maxHttpBufferSize)`,
    );
  }
}
