import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { CorkedWebSocketServer } from '../server/corked-websocket-server.js';
import { originAllowList } from '../common/origins.js';
import { FloodingClients } from '../gateway/flooding-clients.js';
import { SocketServer } from '../gateway/socket-server.js';
import { ApiConfig } from '../http-api/api.config.js';
import { LifecycleService } from '../lifecycle/lifecycle.service.js';
import { LimitsConfig } from '../limits/limits.config.js';
import { messageBudget } from '../limits/message-budget.js';
import { NodeConnections } from '../limits/node-connections.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { ServerConfig, socketOrigins } from '../server/server.config.js';
import { UserTerminations } from '../pusher-api/user-terminations.js';
import { userKey } from '../channels/presence-member.js';
import { PusherApps, type PusherApp } from './pusher-apps.js';
import { PusherConnection } from './pusher-connection.js';
import { PusherConfig } from './pusher.config.js';
import { PusherHub } from './pusher-hub.js';
import { PusherMessages } from './pusher-messages.js';
import { newSocketId, PusherCode, pusherFrame } from './pusher-protocol.js';
import { PusherSubscriptions } from './pusher-subscriptions.js';

/** pusher-js's URL: `/app/{key}?protocol=7&client=js&version=…`. */
const APP_PATH = /^\/app\/([^/?#]+)\/?(?:\?|$)/;
/** How often idle connections are looked for (ms); pings go out within this of their due time. */
const SWEEP_MS = 1000;
/** How long a client closed for flooding has to read its close frame before its socket is destroyed (ms). */
const FLOOD_CLOSE_MS = 1000;

/**
 * The Pusher Channels protocol 7 endpoint on the relay's own HTTP server, beside socket.io (whose
 * engine ignores upgrades outside its path: it destroys only those still unanswered after a
 * second, and these are answered at once). Every `clients` entry with a `secret` is an app; the
 * rest of the protocol is in `PusherMessages`, `PusherSubscriptions` and `PusherHub`.
 */
@Injectable()
export class PusherGateway implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Pusher');
  private readonly apps: PusherApps;
  /** The 101 and `connection_established` leave in one write (`CorkedWebSocketServer`). */
  private readonly wss = new CorkedWebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  private readonly origins: ReturnType<typeof originAllowList> | undefined;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly config: PusherConfig,
    api: ApiConfig,
    server: ServerConfig,
    private readonly limits: LimitsConfig,
    private readonly httpHost: HttpAdapterHost,
    private readonly sockets: SocketServer,
    private readonly hub: PusherHub,
    private readonly subscriptions: PusherSubscriptions,
    private readonly messages: PusherMessages,
    private readonly lifecycle: LifecycleService,
    private readonly metrics: RelayMetrics,
    private readonly nodeConnections: NodeConnections,
    private readonly terminations: UserTerminations,
    private readonly floods: FloodingClients,
  ) {
    this.apps = new PusherApps(api.clients);
    const { entries } = socketOrigins(server);
    this.origins = entries.length === 0 ? undefined : originAllowList(entries);
    // The largest client event plus its envelope; ws closes a connection sending more (1009).
    this.wss.options.maxPayload = limits.maxWhisperBytes + 16 * 1024;
  }

  /** After the socket.io server exists: its adapter is where Pusher connections join rooms. */
  onApplicationBootstrap(): void {
    if (!this.config.enabled || this.apps.size === 0) return;
    this.terminations.register((userId) => this.terminateUser(userId));
    this.hub.serve();
    const http = this.httpHost.httpAdapter.getHttpServer() as HttpServer;
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
    this.log.log(`Pusher protocol endpoint on /app/{key} for ${this.apps.size} app(s)`);
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
    for (const connection of this.hub.all()) connection.close(PusherCode.RECONNECT, 'Server shutting down');
  }

  /**
   * Pusher's `terminate_connections` on this node: closes every connection signed in as the user
   * (`pusher:signin`) or that joined a presence channel as the user, with 4009 (pusher-js does not
   * reconnect); returns how many.
   */
  private terminateUser(userId: string): number {
    let closed = 0;
    for (const connection of this.hub.all()) {
      const isUser =
        connection.userId === userId ||
        [...connection.channels.values()].some((member) => member !== null && userKey(member) === userId);
      if (!isUser) continue;
      connection.close(PusherCode.UNAUTHORIZED, 'Connection terminated by the app');
      closed++;
    }
    return closed;
  }

  /** This node's Pusher connections, for the drain at shutdown (4200: reconnect elsewhere). */
  localConnections(): { close(): void }[] {
    return [...this.hub.all()].map((c) => ({ close: () => c.close(PusherCode.RECONNECT, 'Server shutting down') }));
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const match = APP_PATH.exec(req.url ?? '');
    if (!match) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.opened(ws, req, decodeKey(match[1])));
  }

  /** Refusals are Pusher's: an error frame and a close code pusher-js acts on. */
  private opened(ws: WebSocket, req: IncomingMessage, key: string): void {
    ws.on('error', (err) => this.log.debug(`Pusher connection error: ${err.message}`));
    const refuse = (code: number, message: string): void => {
      ws.send(JSON.stringify({ event: 'pusher:error', data: { code, message } }));
      ws.close(code, message);
    };
    const app = this.apps.find(key);
    if (!app) return refuse(PusherCode.APP_NOT_FOUND, `App key ${key} does not exist`);
    const protocol = new URL(req.url ?? '', 'ws://relay').searchParams.get('protocol');
    if (protocol !== '7') return refuse(PusherCode.UNSUPPORTED_PROTOCOL, 'Unsupported protocol version; 7 is served');
    if (!this.originAllowed(req.headers.origin)) return refuse(PusherCode.ORIGIN_NOT_ALLOWED, 'Origin not allowed');
    if (this.lifecycle.draining) return refuse(PusherCode.RECONNECT, 'Server shutting down');
    const slot = this.nodeConnections.acquire(req);
    if ('refused' in slot) {
      this.metrics.connectionsRefused.inc({ reason: slot.refused });
      return refuse(PusherCode.OVER_CAPACITY, `Over capacity (${slot.refused})`);
    }
    ws.once('close', slot.release);
    this.accept(ws, app);
  }

  private accept(ws: WebSocket, app: PusherApp): void {
    const connection = new PusherConnection(
      newSocketId(),
      app,
      ws,
      () => this.sockets.io,
      this.limits.maxBufferedBytes,
    );
    this.hub.add(connection);
    this.metrics.openConnections.inc('pusher');
    const budget = messageBudget(this.limits);
    ws.on('message', (raw: RawData, binary: boolean) => {
      // Frames already read when the connection was closed still arrive: they count for nothing.
      if (!connection.connected) return;
      if (budget && !budget.take()) return this.flooded(connection, ws);
      // Thrown out of a ws listener, an error would end the process: one client's message never may.
      try {
        this.messages.receive(connection, raw, binary);
      } catch (err) {
        this.log.error(`${connection.id}: message handling failed: ${(err as Error).message}`);
      }
    });
    ws.once('close', () => {
      this.metrics.openConnections.dec('pusher');
      void this.subscriptions.disconnected(connection);
    });
    const established = { socket_id: connection.id, activity_timeout: this.config.activityTimeoutSec };
    connection.send(pusherFrame('pusher:connection_established', JSON.stringify(established)));
  }

  /**
   * Over `limits.maxMessagesPerSecond`: closed with 4100, which makes pusher-js wait a second
   * before it reconnects (4200 would have it reconnect at once and flood again; 4000–4099 would
   * stop it for good, too harsh for a client that may only be buggy). Nothing more is read from
   * it, and its socket is destroyed if it has not closed a second later.
   */
  private flooded(connection: PusherConnection, ws: WebSocket): void {
    connection.close(PusherCode.OVER_CAPACITY, 'Over capacity (too many messages)');
    ws.pause();
    setTimeout(() => ws.terminate(), FLOOD_CLOSE_MS).unref();
    this.floods.flooded('pusher', `socket id ${connection.id}, close 4100`);
  }

  /** The allow-list of socket.io handshakes; clients that send no Origin are no browser pages. */
  private originAllowed(origin: string | undefined): boolean {
    return this.origins === undefined || origin === undefined || this.origins.allows(origin);
  }

  /** Pings connections idle for `activityTimeoutSec`, and closes those that did not answer in time. */
  private sweep(): void {
    const now = Date.now();
    const idle = this.config.activityTimeoutSec * 1000;
    const pong = this.config.pongTimeoutSec * 1000;
    for (const connection of this.hub.all()) {
      if (connection.pingedAt > 0) {
        if (now - connection.pingedAt >= pong) connection.close(PusherCode.PONG_TIMEOUT, 'Pong reply not received');
      } else if (now - connection.lastSeen >= idle) {
        connection.pingedAt = now;
        connection.send(pusherFrame('pusher:ping', '{}'));
      }
    }
  }
}

/** The key of the URL; a malformed escape is kept as written (and matches no app). */
function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
