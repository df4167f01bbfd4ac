import { Global, Module } from '@nestjs/common';
import { ChannelMembership } from './channel-membership.js';
import { PresenceDirectory } from './presence-directory.js';
import { PresenceLease } from './presence-lease.js';
import { PresenceService } from './presence.service.js';
import { RedisPresenceStore } from './redis-presence.store.js';
import { WhisperService } from './whisper.service.js';

/**
 * Rooms, presence and whispers. Global because the HTTP API's `ChannelStats` injects
 * `PresenceDirectory` (the Redis store, cluster-wide) without importing this module: `HttpApiModule`
 * imports `GatewayModule`, which does not re-export it. Being global also runs its lifecycle hooks
 * before those of the feature modules (Nest gives global modules the greatest distance), so a
 * graceful stop removes this node's presence members first.
 */
@Global()
@Module({
  providers: [
    RedisPresenceStore,
    { provide: PresenceDirectory, useExisting: RedisPresenceStore },
    PresenceService,
    PresenceLease,
    ChannelMembership,
    WhisperService,
  ],
  exports: [PresenceDirectory, RedisPresenceStore, PresenceService, ChannelMembership, WhisperService],
})
export class ChannelsModule {}
