import { Global, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { SocketServerModule } from '../gateway/socket-server.module.js';
import { ChannelSubscriptions } from './channel-subscriptions.js';
import { PresenceDirectory } from './presence-directory.js';
import { PresenceLease } from './presence-lease.js';
import { PresenceService } from './presence.service.js';
import { RedisPresenceStore } from './redis-presence.store.js';
import { WhisperService } from './whisper.service.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';

/**
 * Subscriptions (auth, rooms, presence) and whispers. Global because the HTTP API's `ChannelStats` injects
 * `PresenceDirectory` (the Redis store, cluster-wide) without importing this module: `HttpApiModule`
 * imports `GatewayModule`, which does not re-export it. Being global also runs its lifecycle hooks
 * before those of the feature modules (Nest gives global modules the greatest distance), so a
 * graceful stop removes this node's presence members first.
 */
@Global()
@Module({
  imports: [AuthModule, SocketServerModule, WebhooksModule],
  providers: [
    RedisPresenceStore,
    { provide: PresenceDirectory, useExisting: RedisPresenceStore },
    PresenceService,
    PresenceLease,
    ChannelSubscriptions,
    WhisperService,
  ],
  exports: [PresenceDirectory, RedisPresenceStore, PresenceService, ChannelSubscriptions, WhisperService],
})
export class ChannelsModule {}
