import { Module } from '@nestjs/common';
import { ChannelsModule } from '../channels/channels.module.js';
import { EchoGateway } from './echo.gateway.js';
import { SocketServerModule } from './socket-server.module.js';
import { WsErrorFilter } from './ws-error.filter.js';

@Module({ imports: [ChannelsModule, SocketServerModule], providers: [EchoGateway, WsErrorFilter] })
export class GatewayModule {}
