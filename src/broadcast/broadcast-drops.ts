import { Injectable, Logger } from '@nestjs/common';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import type { Drop } from './ingest-result.js';

/**
 * The end of every Redis message that is not delivered: counted by reason and logged with its
 * Redis channel (throttled per reason, so a flood of garbage cannot flood the log).
 */
@Injectable()
export class BroadcastDrops {
  private readonly log = new ThrottledLog(new Logger('Broadcast'));

  constructor(private readonly metrics: RelayMetrics) {}

  record(drop: Drop, redisChannel: string): void {
    this.metrics.messagesDropped.inc({ reason: drop.reason });
    this.log.warn(drop.reason, `Dropped message on Redis channel "${redisChannel}": ${drop.reason} (${drop.detail})`);
  }

  /** A message lost to an unexpected failure while it was being handled (`handler_error`). */
  recordFailure(err: unknown, channel: string, redisChannel: string): void {
    const detail = err instanceof Error ? err.message : String(err);
    this.record({ reason: 'handler_error', channel, detail }, redisChannel);
  }
}
