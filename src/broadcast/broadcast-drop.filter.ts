import { Catch, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { EMPTY, type Observable } from 'rxjs';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { BroadcastDrops } from './broadcast-drops.js';
import type { IncomingBatch } from './laravel.deserializer.js';

/**
 * The last resort for a batch from Redis that failed before its handler ran: every message in it
 * is counted as received and dropped (`handler_error`) and logged. Nest would otherwise drop
 * exceptions from event handlers without a word. Failures of single messages never get here: the
 * pipe and the handler account for those one by one.
 */
@Catch()
export class BroadcastDropFilter implements RpcExceptionFilter<unknown> {
  constructor(
    private readonly metrics: RelayMetrics,
    private readonly drops: BroadcastDrops,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const batch = host.switchToRpc().getData<Partial<IncomingBatch> | undefined>();
    const messages = Array.isArray(batch?.messages) ? batch.messages : [];
    this.metrics.messagesReceived.inc({ source: 'redis' }, messages.length);
    for (const { channel, redisChannel } of messages) this.drops.recordFailure(exception, channel, redisChannel);
    return EMPTY;
  }
}
