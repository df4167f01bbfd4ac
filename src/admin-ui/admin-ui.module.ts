import { Module, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SocketServerModule } from '../gateway/socket-server.module.js';
import { SocketServer } from '../gateway/socket-server.js';
import { ApiListener } from '../http-api/api-listener.js';
import { adminUiFiles } from './admin-ui-files.js';
import { AdminUiInstrumentation } from './admin-ui.instrumentation.js';

/**
 * The socket.io Admin UI. Imported by `startServer` only when `adminUi.enabled` (a dynamic import),
 * so a relay without it never loads the package, bcrypt or this folder.
 */
@Module({ imports: [SocketServerModule], providers: [AdminUiInstrumentation] })
export class AdminUiModule {}

/**
 * Serves the UI's files at `/admin/` of the main listener. Call before `listen()`, like
 * `configureHttpApi`: Express middlewares added later would come after Nest's 404.
 */
export function serveAdminUi(nest: INestApplication): void {
  const app = nest as NestExpressApplication;
  const sockets = app.get(SocketServer);
  const api = app.get(ApiListener);
  app.use(
    adminUiFiles(
      () => sockets.io.path(),
      (req) => api.isOwnRequest(req),
    ),
  );
}
