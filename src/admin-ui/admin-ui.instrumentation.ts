import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
// For its typings only (`Server#_eventBuffer`): the package itself is imported when used, below.
import type {} from '@socket.io/admin-ui';
import type { Namespace, Server, Socket } from 'socket.io';
import { BroadcastDelivery } from '../gateway/broadcast-delivery.js';
import { SocketServer } from '../gateway/socket-server.js';
import type { OutgoingObserver } from '../internals/local-room-emitter.js';
import { NodeConnections } from '../limits/node-connections.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { AdminLogin } from './admin-login.js';
import { adminPasswordHash } from './admin-password.js';
import { AdminUiConfig } from './admin-ui.config.js';
import { ADMIN_PATH } from './admin-ui-files.js';

/**
 * Hooks the socket.io Admin UI (`@socket.io/admin-ui`) into the server once the gateway created it:
 * the `/admin` namespace behind the configured login, read-only (the UI could otherwise join any
 * socket to a private channel's room, skipping its authorisation, or emit in its name), in the
 * package's "development" mode, which reports every socket, room change and event. The login is
 * `AdminLogin`'s, not the package's: its password checks (bcrypt, about 0.1 s of CPU each) run on
 * a worker thread, bounded by `AdminLoginGate`.
 *
 * Laravel broadcasts from Redis are written by `LocalRoomEmitter` past socket.io's emit, where the
 * package listens; they are reported to it from there (`reportLocalDeliveries`).
 */
@Injectable()
export class AdminUiInstrumentation implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('AdminUi');
  private login?: AdminLogin;
  private namespace?: Namespace;

  constructor(
    private readonly config: AdminUiConfig,
    private readonly sockets: SocketServer,
    private readonly delivery: BroadcastDelivery,
    private readonly connections: NodeConnections,
    private readonly metrics: RelayMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const io = this.sockets.io;
    const hash = await adminPasswordHash(this.config.password);
    // Not a static import: the server bundle hoists those to its top, loaded whether enabled or not.
    const { instrument } = await import('@socket.io/admin-ui');
    const namespace = io.of(ADMIN_PATH);
    const credentials = { username: this.config.username, hash };
    this.login = new AdminLogin(credentials, this.connections.trustedProxies, this.metrics, this.log);
    // With `auth: false` the package adds no check of its own (it would compare passwords on the
    // event loop): this middleware, added first, is the namespace's only way in.
    namespace.use(this.login.middleware);
    const ownListeners = new Set(namespace.listeners('connection'));
    instrument(io, { namespaceName: ADMIN_PATH, auth: false, readonly: true, mode: 'development' });
    catchRejections(namespace, ownListeners, this.log);
    this.namespace = namespace;
    this.delivery.observeLocalDeliveries(reportLocalDeliveries(io));
    this.log.log(`Admin UI at ${ADMIN_PATH}/ (read-only), login "${this.config.username}"`);
  }

  /**
   * The package's stats timer (every 2 s, never cleared) would go on publishing through the closed
   * Redis adapter: its emits go nowhere from now on. The password check worker is ended.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.namespace) this.namespace.emit = () => true;
    await this.login?.close();
  }
}

type ConnectionListener = (socket: Socket) => unknown;

/**
 * The package's `connection` handler is async and awaits a cluster-wide `fetchSockets`, which
 * rejects when a node does not answer in time (one stopping, say); unhandled, that rejection would
 * end the process. The listeners `instrument` added are put back wrapped, their failures logged.
 */
function catchRejections(namespace: Namespace, before: ReadonlySet<unknown>, log: Logger): void {
  for (const listener of namespace.listeners('connection') as ConnectionListener[]) {
    if (before.has(listener)) continue;
    namespace.off('connection', listener);
    namespace.on('connection', (socket: Socket) => {
      Promise.resolve(listener(socket)).catch((err: unknown) =>
        log.warn(`Admin UI: could not list the sockets for a login: ${(err as Error).message}`),
      );
    });
  }
}

/**
 * Hands each packet of the fast path to the socket's outgoing-packet listeners (the UI's "events"
 * view listens there), and counts frames engine.io never saw in the UI's packets and bytes out.
 */
function reportLocalDeliveries(io: Server): OutgoingObserver {
  return (socket, data, unseenBytes) => {
    for (const listener of socket.listenersAnyOutgoing()) listener(...data);
    if (unseenBytes === undefined) return;
    io._eventBuffer.push('packetsOut');
    io._eventBuffer.push('bytesOut', undefined, unseenBytes);
  };
}
