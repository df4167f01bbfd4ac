import { Global, Module } from '@nestjs/common';
import { SocketServerModule } from '../gateway/socket-server.module.js';
import { ChannelMembership } from './channel-membership.js';
import { PresenceDirectory } from './presence-directory.js';
import { PresenceLease } from './presence-lease.js';
import { PresenceService } from './presence.service.js';
import { RedisPresenceStore } from './redis-presence.store.js';
import { WhisperService } from './whisper.service.js';

/**
 * Rooms, presence and whispers. Global so that the HTTP API can inject `PresenceDirectory` (the
 * Redis store, cluster-wide) without importing the gateway's dependencies.
 */
@Global()
@Module({
  imports: [SocketServerModule],
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
