import { Module } from '@nestjs/common';
import { ChannelsModule } from '../channels/channels.module.js';
import { EchoGateway } from './echo.gateway.js';

@Module({ imports: [ChannelsModule], providers: [EchoGateway], exports: [EchoGateway] })
export class GatewayModule {}
