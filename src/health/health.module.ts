import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BroadcastModule } from '../broadcast/broadcast.module.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), BroadcastModule],
  controllers: [HealthController],
})
export class HealthModule {}
