import { Global, Module } from '@nestjs/common';
import { BroadcastModule } from '../broadcast/broadcast.module.js';
import { SocketServerModule } from '../gateway/socket-server.module.js';
import { RecoveryFeed } from './recovery-feed.js';
import { RecoveryLog } from './recovery-log.js';
import { RecoverySessions } from './recovery-sessions.js';
import { Sequencer } from './sequencer.js';

/**
 * Missed-event recovery: the history and its order (`RecoveryLog`, `Sequencer`), delivery from it
 * (`RecoveryFeed`) and sessions (`RecoverySessions`). Global: the Redis and HTTP ingest paths, the
 * gateway and the subscriptions all use it, and it depends only on the socket server.
 */
@Global()
@Module({
  imports: [SocketServerModule, BroadcastModule],
  providers: [RecoveryLog, Sequencer, RecoveryFeed, RecoverySessions],
  exports: [RecoveryLog, Sequencer, RecoveryFeed, RecoverySessions],
})
export class RecoveryModule {}
