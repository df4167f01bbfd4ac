import { Global, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ChannelSubscriptions } from './channel-subscriptions.js';
import { PresenceDirectory } from './presence-directory.js';
import { PresenceLease } from './presence-lease.js';
import { PresenceService } from './presence.service.js';
import { RedisPresenceStore } from './redis-presence.store.js';
import { WhisperService } from './whisper.service.js';

/**
 * Subscriptions (auth, rooms, presence) and whispers. Global so that the HTTP API can inject `PresenceDirectory` (the
 * Redis store, cluster-wide) without importing the gateway's dependencies.
 */
@Global()
@Module({
  imports: [AuthModule],
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
