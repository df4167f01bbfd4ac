import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { clientAddress, ConnectionLimiter, normalizeIp, type ConnectionRefusal } from './connection-limiter.js';
import { LimitsConfig } from './limits.config.js';

/**
 * This node's one count of client connections against `limits.maxConnections` and
 * `maxConnectionsPerIp`, shared by the socket.io handshake and the Pusher endpoint, so the limits
 * hold for both protocols together. `limiter` is undefined when neither limit is set.
 */
@Injectable()
export class NodeConnections {
  readonly limiter?: ConnectionLimiter;
  readonly trustedProxies: ReadonlySet<string>;

  constructor(config: LimitsConfig) {
    this.trustedProxies = new Set(config.trustedProxies.map(normalizeIp));
    if (config.maxConnections > 0 || config.maxConnectionsPerIp > 0) {
      this.limiter = new ConnectionLimiter(config.maxConnections, config.maxConnectionsPerIp);
    }
  }

  /** A slot for the client of `req` (the release is idempotent), or the limit that refuses it. */
  acquire(req: IncomingMessage): { release: () => void } | { refused: ConnectionRefusal } {
    if (!this.limiter) return { release: () => undefined };
    const address = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.trustedProxies);
    return this.limiter.acquire(address);
  }
}
