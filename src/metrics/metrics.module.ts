import { Global, Module } from '@nestjs/common';
import { RelayMetrics } from './relay-metrics.js';

@Global()
@Module({ providers: [RelayMetrics], exports: [RelayMetrics] })
export class MetricsModule {}
