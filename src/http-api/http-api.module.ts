import { Logger, Module, type OnModuleInit } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ApiConfig } from './api.config.js';
import { SocketServerModule } from '../gateway/socket-server.module.js';
import { ApiErrorFilter } from './api-error.filter.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiListener } from './api-listener.js';
import { AppsController } from './apps.controller.js';
import { ChannelStats } from './channel-stats.service.js';
import { EventPublisher } from './event-publisher.js';
import { EventsController } from './events.controller.js';

/**
 * laravel-echo-server's HTTP API under `/apps/:appId/...`. Presence members come from the
 * `PresenceDirectory` provided by the channels feature (`ChannelsModule`).
 */
@Module({
  imports: [SocketServerModule],
  controllers: [AppsController, EventsController],
  providers: [
    ChannelStats,
    EventPublisher,
    ApiKeyGuard,
    ApiListener,
    { provide: APP_FILTER, useClass: ApiErrorFilter },
  ],
  exports: [ApiListener, ChannelStats, EventPublisher],
})
export class HttpApiModule implements OnModuleInit {
  constructor(private readonly config: ApiConfig) {}

  onModuleInit(): void {
    const log = new Logger('HttpApi');
    if (this.config.clients.length === 0) {
      // Most deployments never use the API: worth a line, not a warning.
      log.log('No API clients configured ("clients"): every /apps/... request is refused');
    }
    if (this.config.cors.enabled && this.config.cors.origins.length === 0) {
      log.warn('API CORS is on but no origins are allowed ("apiOriginAllow.allowOrigin")');
    }
  }
}
