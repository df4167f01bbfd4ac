import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
// For its typings only (`Server#_eventBuffer`): the package itself is imported when used, below.
import type {} from '@socket.io/admin-ui';
import type { Namespace, Server, Socket } from 'socket.io';
import { BroadcastDelivery } from '../gateway/broadcast-delivery.js';
import { SocketServer } from '../gateway/socket-server.js';
import type { OutgoingObserver } from '../internals/local-room-emitter.js';
import { clientAddress } from '../limits/connection-limiter.js';
import { NodeConnections } from '../limits/node-connections.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { ADMIN_LOGIN_LIMITS, AdminLoginGate, type AdminLoginRefusal } from './admin-login-gate.js';
import { adminPasswordHash } from './admin-password.js';
import { AdminUiConfig } from './admin-ui.config.js';
import { ADMIN_PATH } from './admin-ui-files.js';

type Next = (err?: Error) => void;
type Middleware = (socket: Socket, next: Next) => unknown;

/**
 * Hooks the socket.io Admin UI (`@socket.io/admin-ui`) into the server once the gateway created it:
 * the `/admin` namespace behind the configured login, read-only (the UI could otherwise join any
 * socket to a private channel's room, skipping its authorisation, or emit in its name), in the
 * package's "development" mode, which reports every socket, room change and event. Its password
 * checks (bcrypt, about 0.1 s of CPU each) are bounded by `AdminLoginGate`.
 *
 * Laravel broadcasts from Redis are written by `LocalRoomEmitter` past socket.io's emit, where the
 * package listens; they are reported to it from there (`reportLocalDeliveries`).
 */
@Injectable()
export class AdminUiInstrumentation implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('AdminUi');
  private readonly refusals = new ThrottledLog(this.log);
  private readonly gate = new AdminLoginGate();
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
    const password = await adminPasswordHash(this.config.password);
    // Not a static import: the server bundle hoists those to its top, loaded whether enabled or not.
    const { instrument } = await import('@socket.io/admin-ui');
    const namespace = io.of(ADMIN_PATH);
    namespace.use(checkLogin);
    const ownListeners = new Set(namespace.listeners('connection'));
    // The package's login check is the one middleware it adds: it runs behind the gate.
    wrapMiddlewares(
      namespace,
      (check) => this.gated(check),
      () =>
        instrument(io, {
          namespaceName: ADMIN_PATH,
          auth: { type: 'basic', username: this.config.username, password },
          readonly: true,
          mode: 'development',
        }),
    );
    catchRejections(namespace, ownListeners, this.log);
    this.namespace = namespace;
    this.delivery.observeLocalDeliveries(reportLocalDeliveries(io));
    this.log.log(`Admin UI at ${ADMIN_PATH}/ (read-only), login "${this.config.username}"`);
  }

  /**
   * Runs the package's login check behind `AdminLoginGate` when the login has a username and
   * password (a session id alone costs no bcrypt): refused there, the UI shows the reason after
   * "Error:", as for any message other than "invalid credentials", and no password is checked.
   */
  private gated(check: Middleware): Middleware {
    return (socket, next) => {
      const { username, password } = socket.handshake.auth as Record<string, unknown>;
      if (username === undefined && password === undefined)
        return void runMiddleware(check, socket, this.log).then(next);
      const { address, headers } = socket.handshake;
      const from = clientAddress(address, headers['x-forwarded-for'], this.connections.trustedProxies);
      const refusal = this.gate.attempt(from, async () => {
        const err = await runMiddleware(check, socket, this.log);
        this.metrics.adminLogins.inc({ result: err ? 'invalid' : 'accepted' });
        next(err);
        return err === undefined;
      });
      if (refusal === undefined) return;
      this.metrics.adminLogins.inc({ result: refusal });
      this.refusals.warn(`refused ${refusal}`, `Admin UI: refused a login from ${from}: ${REFUSALS[refusal].log}`);
      next(new Error(REFUSALS[refusal].client));
    };
  }

  /**
   * The package's stats timer (every 2 s, never cleared) would go on publishing through the closed
   * Redis adapter: its emits go nowhere from now on.
   */
  beforeApplicationShutdown(): void {
    if (this.namespace) this.namespace.emit = () => true;
  }
}

/**
 * Runs before the package's login check. A first visit connects with no session and no login:
 * refused with an empty message, the UI shows its form without the "Invalid credentials" the
 * package would print before anything was typed. A login whose fields are no strings is refused
 * here, a session id's beside them included (the package tries the username and password when the
 * session is unknown): bcryptjs rejects them with an error the package does not catch.
 */
function checkLogin(socket: Socket, next: Next): void {
  const { sessionId, username, password } = socket.handshake.auth as Record<string, unknown>;
  // The UI sends a null session id on a first visit: no session, as before.
  if (sessionId && typeof sessionId !== 'string') return next(new Error('invalid credentials'));
  if (username === undefined && password === undefined) return next(sessionId ? undefined : new Error(''));
  if (typeof username !== 'string' || typeof password !== 'string') return next(new Error('invalid credentials'));
  next();
}

const REFUSALS: Record<AdminLoginRefusal, { client: string; log: string }> = {
  too_many_failures: {
    client: 'too many failed logins, try again in a minute',
    log: `${ADMIN_LOGIN_LIMITS.failuresPerAddress} failed logins within ${ADMIN_LOGIN_LIMITS.windowMs / 1000} s`,
  },
  busy: {
    client: 'too many logins at once, try again',
    log: `password checks full (${ADMIN_LOGIN_LIMITS.checksAtOnce} running, ${ADMIN_LOGIN_LIMITS.waiting} waiting)`,
  },
};

/**
 * Calls `during` with every middleware it adds to `namespace` replaced by `wrap`'s version of it.
 * socket.io offers no other way to reach a middleware once added (they are kept in a private list).
 */
function wrapMiddlewares(namespace: Namespace, wrap: (fn: Middleware) => Middleware, during: () => void): void {
  const use = namespace.use.bind(namespace);
  namespace.use = (fn) => use(wrap(fn));
  try {
    during();
  } finally {
    // Back to the prototype's.
    delete (namespace as { use?: unknown }).use;
  }
}

/**
 * Runs a middleware to the error it passes to `next` (undefined: accepted). One that rejects
 * instead (the package's is async; bcryptjs rejects what is not a string) is refused, logged,
 * rather than left unhandled, which would end the process.
 */
function runMiddleware(fn: Middleware, socket: Socket, log: Logger): Promise<Error | undefined> {
  return new Promise((resolve) => {
    try {
      Promise.resolve(fn(socket, resolve)).catch((err: unknown) => {
        log.warn(`Admin UI: the login check failed: ${(err as Error).message}`);
        resolve(new Error('invalid credentials'));
      });
    } catch (err) {
      log.warn(`Admin UI: the login check failed: ${(err as Error).message}`);
      resolve(new Error('invalid credentials'));
    }
  });
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
