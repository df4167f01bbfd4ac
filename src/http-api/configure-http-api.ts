import { VersioningType, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ApiConfig } from './api.config.js';
import { apiBodyParser } from './api-body.js';
import { apiCors } from './api-cors.js';
import { ApiListener } from './api-listener.js';
import type { ApiRequest } from './api-request.js';
import { apiVersionOf, keyDigest } from './api-versions.js';

/**
 * Express-level set-up of the HTTP API, before the body is read: which listener may serve it,
 * CORS (preflights never reach a route), then the JSON body parser with the configured limit.
 * Its errors (invalid JSON, too large) reach `ApiErrorFilter` through Nest's error handler. Then
 * which of the two APIs sharing `/apps/...` (laravel-echo-server's, Pusher's) a request is for.
 * A body over `maxBodyBytes` is refused without reading the rest of it (`apiBodyParser`).
 * Call before `listen()`; the app must be created with `bodyParser: false`.
 */
export function configureHttpApi(nest: INestApplication): void {
  const app = nest as NestExpressApplication;
  const config = app.get(ApiConfig);
  app.use(app.get(ApiListener).scope());
  app.use(apiCors(config.cors));
  // Keeps the raw body too (`req.rawBody`): Pusher's signature covers the body's MD5.
  app.use(apiBodyParser(config.maxBodyBytes));
  // Routes without a version (health, metrics) are not filtered; see `apiVersionOf`.
  const keysWithoutSecret = new Set(config.clients.filter((c) => !c.secret).map((c) => keyDigest(c.key)));
  app.enableVersioning({
    type: VersioningType.CUSTOM,
    extractor: (req) => apiVersionOf(req as ApiRequest, keysWithoutSecret),
  });
}
