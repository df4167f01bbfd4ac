import type { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'socket.io';
import { clientAddress } from '../limits/connection-limiter.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import type { RelayMetrics } from '../metrics/relay-metrics.js';
import { ADMIN_LOGIN_LIMITS, AdminLoginGate, type AdminLoginRefusal } from './admin-login-gate.js';
import { BcryptWorker } from './bcrypt-worker.js';

type Next = (err?: Error) => void;

/** What the login checks against: the configured username and the bcrypt hash of the password. */
export interface AdminCredentials {
  username: string;
  hash: string;
}

const INVALID = 'invalid credentials';

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
 * The Admin UI's login, as the package's basic authentication does it (a session id it handed out,
 * or the username and password, which earn a new session id sent as `session`), with the password
 * compared on a worker thread (`BcryptWorker`) behind `AdminLoginGate`. The package's own check
 * compared on the event loop, holding every socket of the node for 0.1 s or more per login.
 */
export class AdminLogin {
  private readonly gate = new AdminLoginGate();
  /** Session ids handed out, kept until the node stops (as the package's in-memory store). */
  private readonly sessions = new Set<string>();
  private readonly throttled: ThrottledLog;

  constructor(
    private readonly credentials: AdminCredentials,
    private readonly trustedProxies: ReadonlySet<string>,
    private readonly metrics: RelayMetrics,
    log: Logger,
    private readonly bcrypt: Pick<BcryptWorker, 'compare' | 'close'> = new BcryptWorker(),
  ) {
    this.throttled = new ThrottledLog(log);
  }

  /**
   * The `/admin` namespace's middleware. A first visit connects with no session and no login:
   * refused with an empty message, the UI shows its form without "Invalid credentials" before
   * anything was typed. Login fields that are no strings are refused, a session id's beside them
   * included. A known session id logs in without a password check, and so without the gate.
   */
  readonly middleware = (socket: Socket, next: Next): void => {
    const { sessionId, username, password } = socket.handshake.auth as Record<string, unknown>;
    // The UI sends a null session id on a first visit: no session, as before.
    if (sessionId && typeof sessionId !== 'string') return next(new Error(INVALID));
    if (username === undefined && password === undefined) {
      if (!sessionId) return next(new Error(''));
      return next(this.sessions.has(sessionId as string) ? undefined : new Error(INVALID));
    }
    if (typeof username !== 'string' || typeof password !== 'string') return next(new Error(INVALID));
    if (typeof sessionId === 'string' && this.sessions.has(sessionId)) return next();
    const { address, headers } = socket.handshake;
    const from = clientAddress(address, headers['x-forwarded-for'], this.trustedProxies);
    const refusal = this.gate.attempt(from, () => this.check(socket, username, password, next));
    if (refusal === undefined) return;
    this.metrics.adminLogins.inc({ result: refusal });
    this.throttled.warn(`refused ${refusal}`, `Admin UI: refused a login from ${from}: ${REFUSALS[refusal].log}`);
    next(new Error(REFUSALS[refusal].client));
  };

  /** Ends the password check worker. */
  close(): Promise<void> {
    return this.bcrypt.close();
  }

  /**
   * The password check, answering the login; true when it matched. The password is compared even
   * when the username is wrong: the time a refusal takes does not tell which was. A check that
   * could not run refuses the login with a message of its own, logged (throttled).
   */
  private async check(socket: Socket, username: string, password: string, next: Next): Promise<boolean> {
    let matched: boolean;
    try {
      const passwordMatched = await this.bcrypt.compare(password, this.credentials.hash);
      matched = passwordMatched && username === this.credentials.username;
    } catch (err) {
      this.metrics.adminLogins.inc({ result: 'error' });
      this.throttled.warn('check failed', `Admin UI: could not check a login's password: ${(err as Error).message}`);
      next(new Error('the password could not be checked, try again'));
      return false;
    }
    this.metrics.adminLogins.inc({ result: matched ? 'accepted' : 'invalid' });
    if (!matched) {
      next(new Error(INVALID));
      return false;
    }
    const session = randomBytes(8).toString('hex');
    this.sessions.add(session);
    socket.emit('session', session);
    next();
    return true;
  }
}
