import { Catch, Logger, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import type { RedisContext } from '@nestjs/microservices';
import { EMPTY, type Observable } from 'rxjs';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { DroppedMessage } from './dropped-message.js';

/**
 * The end of every failed broadcast from Redis: log it with channel and reason, count it, and
 * swallow it. Nest would otherwise drop exceptions from event handlers without a word.
 */
@Catch()
export class BroadcastDropFilter implements RpcExceptionFilter<unknown> {
  private readonly log = new ThrottledLog(new Logger('Broadcast'));

  constructor(private readonly metrics: RelayMetrics) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const channel = host.switchToRpc().getContext<RedisContext>().getChannel();
    const drop =
      exception instanceof DroppedMessage
        ? exception
        : new DroppedMessage(
            'handler_error',
            channel,
            exception instanceof Error ? exception.message : String(exception),
          );
    this.metrics.messagesReceived.inc({ source: 'redis' });
    this.metrics.messagesDropped.inc({ reason: drop.reason });
    this.log.warn(drop.reason, `Dropped message on Redis channel "${channel}": ${drop.reason} (${drop.message})`);
    return EMPTY;
  }
}
