import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ChannelsModule } from '../channels/channels.module.js';
import { EchoGateway } from './echo.gateway.js';
import { SocketServerModule } from './socket-server.module.js';

@Module({ imports: [AuthModule, ChannelsModule, SocketServerModule], providers: [EchoGateway], exports: [EchoGateway] })
export class GatewayModule {}
