import { Injectable, Logger } from '@nestjs/common';
import type { PresenceMember } from '../channels/presence-directory.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { WebhookQueue } from './webhook-queue.js';
import { anyTargetWants } from './webhook-targets.js';
import { WebhooksConfig } from './webhooks.config.js';

/** One relayed whisper, as the `client_event` webhook reports it. */
export interface ClientEvent {
  channel: string;
  event: string;
  data: unknown;
  /** The sender's presence member, for `user_id` on presence channels. */
  member?: PresenceMember;
}

/**
 * Queues a `client_event` webhook for each relayed whisper, when a receiver wants them. The write
 * is not awaited: the whisper has gone out already, and a Redis that is away costs a counted,
 * logged drop, never a stalled socket.
 */
@Injectable()
export class ClientEvents {
  private readonly log = new Logger('Webhooks');
  private readonly throttled = new ThrottledLog(this.log, 30_000);
  /** Whether any receiver wants `client_event`: without one a whisper costs nothing here. */
  readonly wanted: boolean;

  constructor(
    config: WebhooksConfig,
    private readonly queue: WebhookQueue,
    private readonly metrics: RelayMetrics,
  ) {
    this.wanted = anyTargetWants(config, ['client_event']);
  }

  relayed(socket: { readonly id: string }, { channel, event, data, member }: ClientEvent): void {
    if (!this.wanted) return;
    const queued = this.queue.push({
      name: 'client_event',
      channel,
      event,
      // Pusher sends the client's data as the JSON text it was; a string is passed as it is.
      data: typeof data === 'string' ? data : JSON.stringify(data ?? null),
      socket_id: socket.id,
      ...(member ? { user_id: String(member.user_id) } : {}),
      at: Date.now(),
    });
    queued.catch((err: Error) => {
      this.metrics.webhookEvents.inc({ result: 'dropped' });
      this.throttled.warn('client', `client_event webhook dropped: ${err.message}`);
    });
  }
}
