import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Server, Socket } from 'socket.io';
import { bufferedBytes, closeAtOnce, packetBytes, type Connection } from '../internals/buffered-bytes.js';
import type { BufferLimit } from '../internals/local-room-emitter.js';
import { LimitsConfig } from '../limits/limits.config.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { SocketServer } from './socket-server.js';

/** engine.io's socket as seen here: what `bufferedBytes` reads, plus its id and events. */
interface WatchedConnection extends Connection {
  id: string;
  on(event: 'packetCreate', listener: (packet: { data?: unknown }) => void): unknown;
}

/**
 * `limits.maxBufferedBytes`: a client that stops reading (a dead network, or on purpose) would
 * otherwise make the node buffer everything sent to it. Checked at the two places bytes are
 * queued for a socket, each time they are:
 *
 * - the fast path of `BroadcastDelivery.deliverLocal` (`LocalRoomEmitter`), which writes finished
 *   frames to the TCP socket itself: one read of the socket's `writableLength` per recipient;
 * - every packet engine.io queues (`packetCreate`): the fallback of the fast path (long-polling,
 *   busy sockets), emits through the adapter from any node (HTTP API, presence, whispers),
 *   socket.io's own packets and engine.io's pings. Its write buffer is summed incrementally.
 *
 * A socket over the limit is closed at once (engine.io discards its buffer, a WebSocket's TCP
 * socket is destroyed), logged (throttled) and counted in
 * `echo_relay_slow_consumer_disconnects_total{transport}`; socket.io then runs the usual
 * disconnect (leaving channels and presence).
 */
@Injectable()
export class SlowConsumers implements BufferLimit, OnApplicationBootstrap {
  private readonly log = new ThrottledLog(new Logger('SlowConsumers'));
  readonly maxBufferedBytes: number;

  constructor(
    limits: LimitsConfig,
    private readonly metrics: RelayMetrics,
    private readonly sockets: SocketServer,
  ) {
    this.maxBufferedBytes = limits.maxBufferedBytes;
  }

  /** The socket.io server exists from here on (the gateway attached it in `afterInit`). */
  onApplicationBootstrap(): void {
    this.watch(this.sockets.io);
  }

  /** Checks every packet engine.io queues on the server's connections from now on. */
  watch(server: Server): void {
    server.engine.on('connection', (conn: WatchedConnection) => {
      conn.on('packetCreate', (packet) => {
        // Emitted before the packet joins the write buffer: count it too.
        const bytes = bufferedBytes(conn) + packetBytes(packet);
        if (bytes > this.maxBufferedBytes) this.disconnect(conn, bytes);
      });
    });
  }

  /** `LocalRoomEmitter`'s fast path found this socket over the limit. */
  onOverflow(socket: Socket, bytes: number): void {
    this.disconnect(socket.conn as unknown as WatchedConnection, bytes);
  }

  private disconnect(conn: WatchedConnection, bytes: number): void {
    if (conn.readyState === 'closed') return;
    const transport = conn.transport.name;
    closeAtOnce(conn);
    this.metrics.slowConsumerDisconnects.inc({ transport });
    this.log.warn(
      'slow-consumer',
      `disconnected a slow consumer (${transport}, engine.io id ${conn.id}): ${bytes} bytes queued and not written, ` +
        `over limits.maxBufferedBytes (${this.maxBufferedBytes})`,
    );
  }
}
