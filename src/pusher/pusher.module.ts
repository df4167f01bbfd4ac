import { Module } from '@nestjs/common';
import { ChannelsModule } from '../channels/channels.module.js';
import { SocketServerModule } from '../gateway/socket-server.module.js';
import { LifecycleModule } from '../lifecycle/lifecycle.module.js';
import { PusherApiModule } from '../pusher-api/pusher-api.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { PusherGateway } from './pusher.gateway.js';
import { PusherMessages } from './pusher-messages.js';
import { PusherSubscriptions } from './pusher-subscriptions.js';

/**
 * The Pusher Channels protocol beside socket.io: its own gateway and subscribe path, on the rooms,
 * presence store, whispers and limits of the socket.io one. `PusherHub` lives in
 * `SocketServerModule`, where broadcast delivery and presence reach it. Pusher's HTTP API
 * (`PusherApiModule`) closes its connections for `terminate_connections`. `WebhooksModule` queues
 * the `cache_miss` webhook.
 */
@Module({
  imports: [ChannelsModule, SocketServerModule, LifecycleModule, PusherApiModule, WebhooksModule],
  providers: [PusherGateway, PusherMessages, PusherSubscriptions],
  exports: [PusherGateway],
})
export class PusherModule {}
