import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Server } from 'socket.io';
import { closeAtOnce, type Connection } from '../internals/buffered-bytes.js';
import { LimitsConfig } from '../limits/limits.config.js';
import { budgetWarning, messageBudget, overBudget } from '../limits/message-budget.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { SocketServer } from './socket-server.js';

/** engine.io's socket as seen here: what `closeAtOnce` needs, plus its id, protocol and events. */
interface CountedConnection extends Connection {
  id: string;
  protocol: number;
  on(event: 'packet', listener: () => void): unknown;
}

/**
 * `limits.maxMessagesPerSecond` / `maxMessageBurst` for socket.io clients: one client sending
 * without pause (subscribe/unsubscribe in a loop) would otherwise keep the event loop busy for
 * every other client of the node. Counted at engine.io's socket (`packet`, emitted for every
 * packet of the active transport, WebSocket or long-polling, EIO3 or EIO4, before socket.io sees
 * it): socket.io events, binary attachments, heartbeats and malformed frames alike. A connection
 * over the limit is closed at once, logged (throttled) and counted in
 * `echo_relay_flood_disconnects_total{protocol}`; socket.io then runs the usual disconnect.
 */
@Injectable()
export class FloodingClients implements OnApplicationBootstrap {
  private readonly log = new ThrottledLog(new Logger('FloodingClients'));

  constructor(
    private readonly limits: LimitsConfig,
    private readonly metrics: RelayMetrics,
    private readonly sockets: SocketServer,
  ) {}

  /** The socket.io server exists from here on (the gateway attached it in `afterInit`). */
  onApplicationBootstrap(): void {
    const warning = budgetWarning(this.limits);
    if (warning) new Logger('FloodingClients').warn(warning);
    this.watch(this.sockets.io);
  }

  /** Counts the packets of every connection the server accepts from now on. */
  watch(server: Server): void {
    if (this.limits.maxMessagesPerSecond <= 0) return;
    server.engine.on('connection', (conn: CountedConnection) => {
      const budget = messageBudget(this.limits);
      if (!budget) return;
      conn.on('packet', () => {
        if (!budget.take()) this.disconnect(conn);
      });
    });
  }

  private disconnect(conn: CountedConnection): void {
    if (conn.readyState === 'closed') return;
    const protocol = conn.protocol === 3 ? 'eio3' : 'eio4';
    const transport = conn.transport.name;
    closeAtOnce(conn);
    this.flooded(protocol, `${transport}, engine.io id ${conn.id}`);
  }

  /**
   * Counts and logs (throttled per protocol) a client disconnected for flooding; the Pusher
   * endpoint, which closes its own connections, reports here too.
   */
  flooded(protocol: 'eio3' | 'eio4' | 'pusher', which: string): void {
    this.metrics.floodDisconnects.inc({ protocol });
    this.log.warn(
      `flood:${protocol}`,
      `disconnected a flooding client (${protocol}, ${which}): ${overBudget(this.limits)}`,
    );
  }
}
