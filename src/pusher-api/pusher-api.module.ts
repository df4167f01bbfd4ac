import { Module } from '@nestjs/common';
import { SocketServerModule } from '../gateway/socket-server.module.js';
import { HttpApiModule } from '../http-api/http-api.module.js';
import { PusherChannels } from './pusher-channels.service.js';
import { PusherChannelsController } from './pusher-channels.controller.js';
import { PusherEventsController } from './pusher-events.controller.js';
import { PusherSignatureGuard } from './pusher-signature.guard.js';
import { PusherUsersController } from './pusher-users.controller.js';
import { UserTerminations } from './user-terminations.js';

/**
 * Pusher's signed HTTP API on the paths of laravel-echo-server's (`/apps/:appId/...`): a request
 * carrying `auth_signature` is routed here (see `apiVersionOf`), any other to `HttpApiModule`.
 * Publishing and counting are the old API's (`EventPublisher`, `ChannelStats`), in Pusher's shapes.
 */
@Module({
  imports: [HttpApiModule, SocketServerModule],
  controllers: [PusherEventsController, PusherChannelsController, PusherUsersController],
  providers: [PusherSignatureGuard, PusherChannels, UserTerminations],
  exports: [UserTerminations],
})
export class PusherApiModule {}
