import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Metric names carry this prefix. */
export const METRIC_PREFIX = 'echo_relay_';

/** What the Laravel subscriptions of this node look like, read at scrape time. */
export interface RedisLinkState {
  subscribed: boolean;
  /** Live subscriptions. */
  live: number;
  /** Copies dropped because another subscription delivered them first, since start. */
  duplicates: number;
}

/**
 * A gauge's value per label value, kept in a plain map and handed to the gauge when it is scraped.
 * Connect, subscribe and disconnect move it: prom-client's own `inc`/`dec` hash their label object
 * on every call, which cost more of a connect than any other metric.
 */
export class Tally<L extends string> {
  private readonly counts = new Map<string, number>();

  constructor(private readonly label: L) {}

  inc(value: string): void {
    this.counts.set(value, (this.counts.get(value) ?? 0) + 1);
  }

  dec(value: string): void {
    this.counts.set(value, (this.counts.get(value) ?? 0) - 1);
  }

  /** Sets `gauge` to the counts; a label value that went back to 0 stays, at 0. */
  report(gauge: Gauge<L>): void {
    for (const [value, count] of this.counts) gauge.set({ [this.label]: value } as Partial<Record<L, string>>, count);
  }
}

/**
 * Every counter echo-relay keeps, in one registry. Labels carry bounded values only (sources,
 * reasons, channel types), never channel names or user ids.
 */
@Injectable()
export class RelayMetrics {
  readonly registry = new Registry();
  private redisLink: () => RedisLinkState = () => ({ subscribed: false, live: 0, duplicates: 0 });

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

  /** Open connections by Engine.IO version, or `pusher` (`connections` reads it at scrape time). */
  readonly openConnections = new Tally('eio');

  readonly connections: Gauge<'eio'> = new Gauge({
    name: `${METRIC_PREFIX}connections`,
    help: 'Open client connections on this node, by Engine.IO protocol version (3, 4) or pusher',
    labelNames: ['eio'] as const,
    registers: [this.registry],
    collect: (): void => this.openConnections.report(this.connections),
  });

  readonly redisSubscribed: Gauge = new Gauge({
    name: `${METRIC_PREFIX}redis_subscribed`,
    help: '1 while the Redis pattern subscription for Laravel broadcasts is live',
    registers: [this.registry],
    collect: (): void => this.redisSubscribed.set(this.redisLink().subscribed ? 1 : 0),
  });

  readonly redisSubscriptions: Gauge = new Gauge({
    name: `${METRIC_PREFIX}redis_subscriptions`,
    help: 'Live Redis pattern subscriptions for Laravel broadcasts (several on Sentinel and Cluster, so a failover loses nothing)',
    registers: [this.registry],
    collect: (): void => this.redisSubscriptions.set(this.redisLink().live),
  });

  readonly redisDuplicates: Counter = new Counter({
    name: `${METRIC_PREFIX}redis_duplicates_merged_total`,
    help: "Copies of a Laravel broadcast dropped because another of this node's subscriptions delivered it first",
    registers: [this.registry],
    collect: (): void => {
      this.redisDuplicates.reset();
      this.redisDuplicates.inc(this.redisLink().duplicates);
    },
  });

  /** Channel subscriptions by channel type (`subscriptions` reads it at scrape time). */
  readonly channelSubscriptions = new Tally('type');

  readonly subscriptions: Gauge<'type'> = new Gauge({
    name: `${METRIC_PREFIX}subscriptions`,
    help: 'Channel subscriptions on this node, by channel type',
    labelNames: ['type'] as const,
    registers: [this.registry],
    collect: (): void => this.channelSubscriptions.report(this.subscriptions),
  });

  readonly authRequests = new Counter({
    name: `${METRIC_PREFIX}auth_requests_total`,
    help: 'Channel authorisation calls, by outcome (allowed, denied, error, timeout, abandoned: the subscribe was taken back first)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly authDuration = new Histogram({
    name: `${METRIC_PREFIX}auth_duration_seconds`,
    help: 'Latency of channel authorisation calls',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly whispers = new Counter({
    name: `${METRIC_PREFIX}whispers_total`,
    help: 'Client events (whispers), by result (relayed, rate_limited, too_large, refused)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly ingestToEmit = new Histogram({
    name: `${METRIC_PREFIX}ingest_to_emit_seconds`,
    help: 'Time from a broadcast arriving to its emit on this node',
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });

  /** Limits (`limits.*`) when they trigger: each counted where it acts. */
  readonly slowConsumerDisconnects = new Counter({
    name: `${METRIC_PREFIX}slow_consumer_disconnects_total`,
    help: 'Sockets disconnected for holding more than limits.maxBufferedBytes unwritten, by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  readonly floodDisconnects = new Counter({
    name: `${METRIC_PREFIX}flood_disconnects_total`,
    help: 'Connections closed for sending more than limits.maxMessagesPerSecond (beyond limits.maxMessageBurst), by protocol (eio3, eio4, pusher)',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });

  readonly oversizedDisconnects = new Counter({
    name: `${METRIC_PREFIX}oversized_disconnects_total`,
    help: "Connections closed for a packet whose binary attachments together exceed socket.io's maxHttpBufferSize, by protocol (eio3, eio4)",
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });

  readonly pusherDropped = new Counter({
    name: `${METRIC_PREFIX}pusher_messages_dropped_total`,
    help: 'Messages from Pusher-protocol clients dropped and answered with pusher:error, by reason (malformed, invalid_subscribe, invalid_unsubscribe, invalid_signin)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly connectionsRefused = new Counter({
    name: `${METRIC_PREFIX}connections_refused_total`,
    help: 'Connections refused (socket.io: 503, Pusher: 4100), by limit (max_connections, max_connections_per_ip)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly subscriptionsRefused = new Counter({
    name: `${METRIC_PREFIX}subscriptions_refused_total`,
    help: "Subscribes refused by a limit or rule, by reason (max_channels: subscription_error 429, auth_headers_too_large: 431, server_to_user: 403, another user's #server-to-user- channel)",
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly adminLogins = new Counter({
    name: `${METRIC_PREFIX}admin_ui_logins_total`,
    help: 'Admin UI logins with a username and password, by result: accepted, invalid (checked, wrong username or password), error (the check could not run), and refused before any check: too_many_failures (5 failed logins of the address within a minute), busy (too many checks waiting on the node)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly authWaiting = new Gauge({
    name: `${METRIC_PREFIX}auth_waiting`,
    help: 'Authorisations waiting for a slot, by limit (socket: maxPendingAuthPerSocket, node: authConcurrency)',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  readonly recoveries = new Counter({
    name: `${METRIC_PREFIX}recoveries_total`,
    help: 'Reconnecting clients that asked to recover their session, by result (recovered, failed) and why it failed (unknown_session: expired or never saved, trimmed: history no longer covers the offset, invalid_offset, no_offset: no offset and no join position to read from, unsupported: Redis before 7.0, starting: this node had not read the history within 10 s of its start, error)',
    labelNames: ['result', 'reason'] as const,
    registers: [this.registry],
  });

  readonly recoverySessionsNotKept = new Counter({
    name: `${METRIC_PREFIX}recovery_sessions_not_kept_total`,
    help: 'Sessions of dropped connections deleted instead of kept for a recovery: their client address was over limits.maxRecoveryBytesPerIp within recovery.windowMs',
    registers: [this.registry],
  });

  readonly recoveryReplayed = new Counter({
    name: `${METRIC_PREFIX}recovery_replayed_total`,
    help: 'Missed broadcasts sent to recovered sockets',
    registers: [this.registry],
  });

  readonly sequencer = new Gauge({
    name: `${METRIC_PREFIX}sequencer`,
    help: "1 while this node holds the lease to order Laravel's broadcasts in the recovery history",
    registers: [this.registry],
  });

  readonly recoveryRescued = new Counter({
    name: `${METRIC_PREFIX}recovery_rescued_total`,
    help: 'Laravel broadcasts this node appended to the history itself because the sequencer had not within two lease periods',
    registers: [this.registry],
  });

  readonly webhookEvents = new Counter({
    name: `${METRIC_PREFIX}webhook_events_total`,
    help: 'Webhook events, by result: queued (for one receiver), sent, retried (in a request that failed and will be sent again), dropped (unreadable, or undelivered past webhooks.retryForMs); counted by the node that sends them',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly webhookQueued = new Gauge({
    name: `${METRIC_PREFIX}webhook_queued`,
    help: 'Webhook events waiting to be sent, cluster-wide, as last seen by the node that sends them (0 on the others)',
    registers: [this.registry],
  });

  readonly pusherApiRefused = new Counter({
    name: `${METRIC_PREFIX}pusher_api_refused_total`,
    help: 'Requests to the Pusher HTTP API refused for their signature, by reason (missing_params, unknown_key, bad_version, expired_timestamp, bad_body_md5, bad_signature, wrong_app)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly pusherCache = new Counter({
    name: `${METRIC_PREFIX}pusher_cache_total`,
    help: 'Pusher cache channels, by result: hit (a subscriber got the cached event), miss (pusher:cache_miss, nothing cached), unavailable (pusher:cache_miss because Redis did not answer), stored (an event this node cached; every node caches each Redis broadcast), store_failed',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /** Where the Redis subscription metrics read their state, at every scrape. */
  watchRedisSubscription(link: () => RedisLinkState): void {
    this.redisLink = link;
  }
}
