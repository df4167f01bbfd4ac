import { Global, Module } from '@nestjs/common';
import { EmptyPresenceDirectory, PresenceDirectory } from './presence-directory.js';

/**
 * Channel features shared across modules. Global so that the HTTP API can inject
 * `PresenceDirectory` without importing the gateway's dependencies. Until presence is stored in
 * Redis, every presence channel reads as empty: the channels feature replaces this binding (and
 * this module) with the Redis-backed directory.
 */
@Global()
@Module({
  providers: [{ provide: PresenceDirectory, useClass: EmptyPresenceDirectory }],
  exports: [PresenceDirectory],
})
export class ChannelsModule {}
