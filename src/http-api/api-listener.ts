import {
  Injectable,
  Logger,
  NotFoundException,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiConfig } from './api.config.js';
import { isApiPath, type ApiRequest } from './api-request.js';
import { upgradeWebSocketsOnly } from '../server/websocket-upgrades.js';

type Next = (err?: unknown) => void;

/**
 * With `api.port` set, the HTTP API and `/metrics` get a plain-HTTP listener of their own, so the
 * port exposed for WebSockets need not expose them: the same Express app serves both listeners,
 * and `scope()` answers 404 for API and metrics paths that arrive on the main one. Without
 * `api.port` everything is served on the main port, like laravel-echo-server.
 */
@Injectable()
export class ApiListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('HttpApi');
  private readonly ownRequests = new WeakSet<IncomingMessage>();
  private server?: Server;
  private address?: string;

  constructor(
    private readonly config: ApiConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  get separate(): boolean {
    return this.config.port !== undefined;
  }

  /** `http://host:port` of the separate listener, once it listens. */
  get url(): string | undefined {
    return this.address;
  }

  /** Whether `req` came through the separate listener of `api.port` (never, without one). */
  isOwnRequest(req: IncomingMessage): boolean {
    return this.ownRequests.has(req);
  }

  /** Express middleware: API and metrics paths only on the listener that serves them. */
  scope(): (req: ApiRequest, res: unknown, next: Next) => void {
    return (req, _res, next) => {
      const restricted = isApiPath(req.path) || req.path === '/metrics';
      if (restricted && this.separate && !this.isOwnRequest(req)) {
        return next(new NotFoundException(`Cannot ${req.method} ${req.path}`));
      }
      next();
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.separate) return;
    const app = this.adapterHost.httpAdapter.getInstance<RequestListener>();
    const server = createServer((req, res) => {
      this.ownRequests.add(req);
      app(req, res);
    });
    upgradeWebSocketsOnly(server);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host || undefined, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    this.address = `http://${this.config.host || '127.0.0.1'}:${port}`;
    this.log.log(`HTTP API and metrics on ${this.address} (not on the WebSocket port)`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }
}
