import { Catch, Injectable, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { InvalidClientMessage, SubscriptionDenied, SubscriptionIgnored } from './client-errors.js';

/** The one place where an error on the socket side becomes what the client sees. */
@Catch()
@Injectable()
export class WsErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('Gateway');

  constructor(private readonly metrics: RelayMetrics) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    this.report(host.switchToWs().getClient<Socket>(), exception);
  }

  /** The same, for a message the gateway handled itself (`EchoGateway.receive`). */
  report(socket: Socket, exception: unknown): void {
    if (exception instanceof SubscriptionDenied) {
      this.log.debug(`${socket.id}: ${exception.message}`);
      socket.emit('subscription_error', exception.channel, exception.status);
      return;
    }
    if (exception instanceof SubscriptionIgnored) {
      this.log.debug(`${socket.id}: ${exception.message}`);
      return;
    }
    if (exception instanceof InvalidClientMessage) {
      this.metrics.messagesDropped.inc({ reason: 'invalid_client_message' });
      this.log.debug(`${socket.id}: ignored "${exception.event}": ${exception.message}`);
      return;
    }
    this.log.error(
      `${socket.id}: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`,
    );
  }
}
