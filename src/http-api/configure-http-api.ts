import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ApiConfig } from './api.config.js';
import { apiCors } from './api-cors.js';
import { ApiListener } from './api-listener.js';

/**
 * Express-level set-up of the HTTP API, before the body is read: which listener may serve it,
 * CORS (preflights never reach a route), then the JSON body parser with the configured limit.
 * Its errors (invalid JSON, too large) reach `ApiErrorFilter` through Nest's error handler.
 * Call before `listen()`; the app must be created with `bodyParser: false`.
 */
export function configureHttpApi(nest: INestApplication): void {
  const app = nest as NestExpressApplication;
  const config = app.get(ApiConfig);
  app.use(app.get(ApiListener).scope());
  app.use(apiCors(config.cors));
  app.useBodyParser('json', { limit: config.maxBodyBytes });
}
