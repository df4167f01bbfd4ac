import { Controller, Get, Header } from '@nestjs/common';
import { prometheusContentType } from 'prom-client';
import { RelayMetrics } from './relay-metrics.js';

/** Prometheus scrape endpoint. No key: bind it to an internal interface with `api.port`/`api.host`. */
@Controller()
export class MetricsController {
  constructor(private readonly metrics: RelayMetrics) {}

  @Get('metrics')
  @Header('Content-Type', prometheusContentType)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
