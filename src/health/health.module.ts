import { Module } from '@nestjs/common';
import { BroadcastModule } from '../broadcast/broadcast.module.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [BroadcastModule],
  controllers: [HealthController],
})
export class HealthModule {}
