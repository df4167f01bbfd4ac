import 'reflect-metadata';
import { Logger, type INestApplication, type LoggerService, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AppModule } from '../app.module.js';
import { LaravelRedisServer } from '../internals/laravel-redis.server.js';
import { subscriptionPattern } from '../broadcast/laravel-prefix.js';
import type { RelayConfig } from '../config/relay-config.js';
import { EchoIoAdapter } from '../internals/echo-io.adapter.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { NodeConnections } from '../limits/node-connections.js';
import { socketOrigins } from './server.config.js';
import { originAllowList } from '../common/origins.js';
import { SocketServer } from '../gateway/socket-server.js';
import { PusherGateway } from '../pusher/pusher.gateway.js';
import { closeInBatches } from '../lifecycle/drain.js';
import { LifecycleService } from '../lifecycle/lifecycle.service.js';
import { shutdownWarning } from '../lifecycle/shutdown.config.js';
import { setTimeout as delay } from 'node:timers/promises';
import { reloadCertificatesOnChange, startupTlsOptions } from './https.js';
import { preflight } from './preflight.js';
import { configureHttpApi } from '../http-api/configure-http-api.js';
import { assertPortsFree, portError } from './port-check.js';
import { upgradeWebSocketsOnly } from './websocket-upgrades.js';

/** A started echo-relay: its app, where it listens, and how to stop it. */
export interface RunningServer {
  app: INestApplication;
  port: number;
  url: string;
  /** Graceful stop: readiness fails, clients are disconnected, Redis is quit. */
  stop(): Promise<void>;
}

/**
 * Boots echo-relay from a validated config. Redis need not be up: the subscriber keeps retrying.
 * A port in use is a `ConfigError`, thrown before anything is started or logged.
 */
export async function startServer(
  config: RelayConfig,
  options: { logger?: LoggerService | false; warnings?: string[]; notices?: string[] } = {},
): Promise<RunningServer> {
  preflight(config);
  await assertPortsFree(config);
  const log = new Logger('EchoRelay');
  const https = config.server.protocol === 'https';
  const httpsOptions = https ? startupTlsOptions(config.server) : undefined;
  // Loaded only when enabled: a relay without the Admin UI never loads the package or bcrypt.
  const adminUi = config.adminUi.enabled ? await import('../admin-ui/admin-ui.module.js') : undefined;
  const app = await NestFactory.create(AppModule.forRoot(config, adminUi ? [adminUi.AdminUiModule] : []), {
    logger: options.logger ?? false,
    // A provider that refuses its settings (a `ConfigError`: an unreadable `authCaFile`, a bad JWT
    // key) rejects this call instead of Nest logging a stack and exiting 1: the caller exits 78.
    abortOnError: false,
    // The HTTP API installs its own JSON parser, with its size limit, after its listener and CORS
    // checks; it keeps the raw body beside the parsed one (a Pusher API signature covers its MD5).
    bodyParser: false,
    httpsOptions: httpsOptions as NestApplicationOptions['httpsOptions'],
  });
  upgradeWebSocketsOnly(app.getHttpServer() as HttpsServer);
  for (const notice of options.notices ?? []) log.log(notice);
  for (const warning of options.warnings ?? []) log.warn(warning);
  const stopTooLong = shutdownWarning(config.shutdown);
  if (stopTooLong) log.warn(stopTooLong);
  const lifecycle = app.get(LifecycleService);
  app.useWebSocketAdapter(
    new EchoIoAdapter(
      app,
      config.server,
      config.redis,
      () => lifecycle.draining,
      {
        config: config.limits,
        metrics: app.get(RelayMetrics),
        connections: app.get(NodeConnections),
      },
      config.adminUi.enabled,
    ),
  );
  if (config.broadcast.redis) {
    app.connectMicroservice({ strategy: app.get(LaravelRedisServer) });
    await app.startAllMicroservices();
    log.log(`Listening for Laravel broadcasts on Redis pattern "${subscriptionPattern(config.redis.prefix)}"`);
  } else {
    log.warn('Redis subscription disabled (subscribers.redis: false)');
  }
  logSocketOrigins(config, log);
  warnPublicKeys(config, log);
  configureHttpApi(app);
  adminUi?.serveAdminUi(app);
  // Nest hands these to net.Server#listen, where a numeric argument after the port (and host) is
  // the backlog; its typings only list port, host and callback.
  const { port: listenPort, host, backlog } = config.server;
  const listen = app.listen.bind(app) as unknown as (port: number, ...rest: (string | number)[]) => Promise<unknown>;
  await (host ? listen(listenPort, host, backlog) : listen(listenPort, backlog)).catch(async (err: unknown) => {
    // The port was taken after `assertPortsFree` looked: the same one-line error, once closed.
    await app.close().catch(() => undefined);
    const failed = err as NodeJS.ErrnoException & { port?: number };
    const api = failed.port !== undefined && failed.port === config.api.port && failed.port !== listenPort;
    throw portError(api ? 'api.port' : 'server.port', failed.port ?? listenPort, api ? config.api.host : host, failed);
  });
  const httpServer = app.getHttpServer() as HttpsServer;
  const stopWatching = https ? reloadCertificatesOnChange(httpServer, config.server, log) : () => undefined;
  const port = (httpServer.address() as AddressInfo).port;
  const url = `${config.server.protocol}://${config.server.host || '127.0.0.1'}:${port}`;
  // `url` is where this process can reach itself; the log says what is actually bound.
  log.log(`echo-relay serving on ${config.server.host ? url : `all interfaces, port ${port}`}`);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const { graceMs, disconnectSpreadMs } = config.shutdown;
      app.get(LifecycleService).startDraining();
      stopWatching();
      if (graceMs > 0) {
        log.log(`Draining: readiness fails, serving ${graceMs} ms more`);
        await delay(graceMs);
      }
      const sockets = app.get(SocketServer);
      const connections = [...sockets.localConnections(), ...app.get(PusherGateway).localConnections()];
      // The spread keeps the other nodes from getting every client at once; without one, it
      // only keeps clients away longer (a single node restarting).
      const alone = connections.length > 0 && disconnectSpreadMs > 0 && (await sockets.otherNodes()) === 0;
      if (alone) log.log(`Closing ${connections.length} client connection(s) at once: no other node to take them`);
      else log.log(`Closing ${connections.length} client connection(s) over ${disconnectSpreadMs} ms`);
      await closeInBatches(connections, alone ? 0 : disconnectSpreadMs);
      await app.close();
    })());
  return { app, port, url, stop };
}

/** Says at startup which origins may open sockets, and where that list came from. */
/**
 * An app with a secret serves Pusher clients, whose pages carry its key; the laravel-echo-server
 * API takes that key alone as its password. Served on the public port, the key lets anyone
 * publish for the app.
 */
function warnPublicKeys(config: RelayConfig, log: Logger): void {
  if (config.api.port !== undefined) return;
  const apps = config.api.clients.filter((client) => client.secret).map((client) => client.appId);
  if (apps.length === 0) return;
  log.warn(
    `Apps with a secret (${apps.join(', ')}) serve Pusher clients, whose pages carry the app key, and the ` +
      'laravel-echo-server API on this port accepts that key alone: set apiPort to serve /apps on an internal ' +
      'listener (docs/pusher-http-api.md)',
  );
}

function logSocketOrigins(config: RelayConfig, log: Logger): void {
  const origins = socketOrigins(config.server);
  if (origins.unusable !== undefined) {
    log.warn(`socketio.origins ignored: ${JSON.stringify(origins.unusable)} is neither a string nor a list of strings`);
  }
  const invalid = originAllowList(origins.entries).invalid;
  if (invalid.length > 0) log.warn(`Origin entries that match no origin, ignored: ${invalid.join(', ')}`);
  if (origins.source === 'socketio.origins') {
    log.log(
      `Using socketio.origins from laravel-echo-server.json as the socket origin allow-list: ${origins.entries.join(' ')}`,
    );
  } else if (origins.source === 'none') {
    log.warn('No allowedOrigins configured: sockets from any origin are accepted, like laravel-echo-server');
  }
}
