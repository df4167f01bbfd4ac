import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ChannelsModule } from '../channels/channels.module.js';
import { EchoGateway } from './echo.gateway.js';

@Module({ imports: [AuthModule, ChannelsModule], providers: [EchoGateway], exports: [EchoGateway] })
export class GatewayModule {}
