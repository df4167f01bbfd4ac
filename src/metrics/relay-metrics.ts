import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';

/** Metric names carry this prefix. */
export const METRIC_PREFIX = 'echo_relay_';

/**
 * Every counter echo-relay keeps, in one registry. Labels carry bounded values only (sources,
 * reasons, channel types), never channel names or user ids.
 */
@Injectable()
export class RelayMetrics {
  readonly registry = new Registry();

  readonly messagesReceived = new Counter({
    name: `${METRIC_PREFIX}messages_received_total`,
    help: 'Broadcast messages received, by source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly messagesDropped = new Counter({
    name: `${METRIC_PREFIX}messages_dropped_total`,
    help: 'Messages dropped instead of delivered, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly deliveries = new Counter({
    name: `${METRIC_PREFIX}deliveries_total`,
    help: 'Events emitted to sockets on this node (one per recipient)',
    registers: [this.registry],
  });

  readonly connections = new Gauge({
    name: `${METRIC_PREFIX}connections`,
    help: 'Open socket.io connections on this node, by Engine.IO protocol version',
    labelNames: ['eio'] as const,
    registers: [this.registry],
  });

  readonly redisSubscribed = new Gauge({
    name: `${METRIC_PREFIX}redis_subscribed`,
    help: '1 while the Redis pattern subscription for Laravel broadcasts is live',
    registers: [this.registry],
  });
}
