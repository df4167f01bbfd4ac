import { Global, Module } from '@nestjs/common';
import { EmptyPresenceDirectory, PresenceDirectory } from './presence-directory.js';

/**
 * Binds the `PresenceDirectory` token for everything that reads presence members (the HTTP API).
 * Until presence is stored in Redis every presence channel reads as empty; the Redis-backed
 * directory replaces `useClass` here.
 */
@Global()
@Module({
  providers: [{ provide: PresenceDirectory, useClass: EmptyPresenceDirectory }],
  exports: [PresenceDirectory],
})
export class PresenceDirectoryModule {}
