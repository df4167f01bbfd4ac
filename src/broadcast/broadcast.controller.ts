import { Controller, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { LogConfig } from '../config/relay-config.js';
import { EchoGateway } from '../gateway/echo.gateway.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { BroadcastDropFilter } from './broadcast-drop.filter.js';
import { BroadcastValidationPipe } from './broadcast-validation.pipe.js';
import type { BroadcastDto } from './broadcast.dto.js';
import { LARAVEL_BROADCAST } from './laravel.deserializer.js';
import { PrefixAdvisor } from './prefix-advisor.js';

/** Laravel's broadcasts from Redis: validated once, then handed to the gateway. */
@Controller()
@UseFilters(BroadcastDropFilter)
export class BroadcastController {
  private readonly log = new Logger('Broadcast');
  private readonly verbose: boolean;

  constructor(
    private readonly gateway: EchoGateway,
    private readonly metrics: RelayMetrics,
    private readonly prefixAdvisor: PrefixAdvisor,
    logConfig: LogConfig,
  ) {
    this.verbose = logConfig.devMode || logConfig.level === 'debug';
  }

  @EventPattern(LARAVEL_BROADCAST)
  onBroadcast(
    @Payload(BroadcastValidationPipe) broadcast: BroadcastDto,
    /** Stamped by the deserializer, for the ingest-to-emit histogram. */
    @Payload('receivedAt') receivedAt: unknown,
  ): void {
    this.metrics.messagesReceived.inc({ source: 'redis' });
    this.prefixAdvisor.inspect(broadcast.channel);
    const recipients = this.gateway.deliver(broadcast, {
      scope: 'local',
      receivedAt: typeof receivedAt === 'number' ? receivedAt : undefined,
    });
    if (this.verbose) {
      this.log.debug(`${broadcast.event} on "${broadcast.channel}" to ${recipients} socket(s)`);
    }
  }
}
