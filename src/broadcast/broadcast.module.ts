import { Module } from '@nestjs/common';
import { SocketServerModule } from '../gateway/socket-server.module.js';
import { BroadcastController } from './broadcast.controller.js';
import { BroadcastDrops } from './broadcast-drops.js';
import { PrefixAdvisor } from './prefix-advisor.js';
import { redisSubscriberProvider } from './redis-subscriber.provider.js';
import { LaravelRedisServer } from '../internals/laravel-redis.server.js';

@Module({
  imports: [SocketServerModule],
  controllers: [BroadcastController],
  providers: [BroadcastDrops, PrefixAdvisor, redisSubscriberProvider],
  exports: [LaravelRedisServer],
})
export class BroadcastModule {}
