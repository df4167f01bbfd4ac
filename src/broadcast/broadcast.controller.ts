import { Controller, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { Counter } from 'prom-client';
import { LogConfig } from '../logging/log.config.js';
import { BroadcastDelivery } from '../gateway/broadcast-delivery.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { BroadcastDrops } from './broadcast-drops.js';
import { BroadcastDropFilter } from './broadcast-drop.filter.js';
import { BroadcastBatchValidationPipe, type ValidatedBatch } from './broadcast-validation.pipe.js';
import { LARAVEL_BROADCAST } from './laravel.deserializer.js';
import { PrefixAdvisor } from './prefix-advisor.js';
import { RecoveryConfig } from '../recovery/recovery.config.js';
import { Sequencer } from '../recovery/sequencer.js';

/** Laravel's broadcasts from Redis, one batch per Redis read: each validated once, then delivered to this node's sockets. */
@Controller()
@UseFilters(BroadcastDropFilter)
export class BroadcastController {
  private readonly log = new Logger('Broadcast');
  private readonly verbose: boolean;
  private readonly received: Counter.Internal;

  constructor(
    private readonly delivery: BroadcastDelivery,
    private readonly drops: BroadcastDrops,
    private readonly prefixAdvisor: PrefixAdvisor,
    private readonly sequencer: Sequencer,
    private readonly recovery: RecoveryConfig,
    metrics: RelayMetrics,
    logConfig: LogConfig,
  ) {
    this.verbose = logConfig.devMode || logConfig.level === 'debug';
    this.received = metrics.messagesReceived.labels({ source: 'redis' });
  }

  @EventPattern(LARAVEL_BROADCAST)
  onBroadcasts(
    @Payload('messages', BroadcastBatchValidationPipe) batch: ValidatedBatch,
    /** Stamped when the batch's first message arrived, for the ingest-to-emit histogram. */
    @Payload('receivedAt') receivedAt: unknown,
  ): void {
    this.received.inc(batch.accepted.length + batch.dropped.length);
    for (const { drop, redisChannel } of batch.dropped) this.drops.record(drop, redisChannel);
    const arrived = typeof receivedAt === 'number' ? receivedAt : undefined;
    if (this.recovery.enabled) {
      // Delivered from the history, in the cluster's one order, once the sequencer appended them.
      for (const { broadcast } of batch.accepted) this.prefixAdvisor.inspect(broadcast.channel);
      this.sequencer.submit(batch.accepted, arrived);
      return;
    }
    for (const { broadcast, redisChannel } of batch.accepted) {
      // One failing emit must not cost the rest of the batch.
      try {
        this.prefixAdvisor.inspect(broadcast.channel);
        const recipients = this.delivery.deliverLocal(broadcast, arrived);
        if (this.verbose) {
          this.log.debug(`${broadcast.event} on "${broadcast.channel}" to ${recipients} socket(s)`);
        }
      } catch (err) {
        this.drops.recordFailure(err, broadcast.channel, redisChannel);
      }
    }
  }
}
