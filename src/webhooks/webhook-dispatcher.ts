import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ApiConfig } from '../http-api/api.config.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { send } from './webhook-sender.js';
import { parseEvent, WebhookQueue } from './webhook-queue.js';
import { resolveTargets, type QueuedEvent, type WebhookTarget } from './webhook-targets.js';
import { WebhooksConfig } from './webhooks.config.js';

/** How long the dispatcher lock lasts without renewal: a dead sender's successor takes over after it. */
const LOCK_MS = 5000;
/** A node that does not send asks for the lock this often. */
const STANDBY_MS = 1000;
/** Most events in one request, and moved per step. */
const MAX_BATCH = 100;
/** Longest wait between two attempts of a failing receiver. */
const MAX_BACKOFF_MS = 60_000;
/** The queue length gauge is refreshed this often (it costs a read per receiver). */
const GAUGE_MS = 1000;
/** A graceful stop waits this long for a step in flight (Redis may be away) before giving up the lock. */
const STOP_WAIT_MS = 1000;

/** One receiver's delivery state on the sending node. */
interface TargetState {
  target: WebhookTarget;
  sending: boolean;
  failures: number;
  retryAt: number;
}

/**
 * Sends the queued webhook events. Every `webhooks.batchMs` the node holding the lock releases the
 * leave events whose delay ended, moves new events to each receiver's queue and sends each
 * receiver what it has, one request at a time per receiver (so its events stay in order). A failed
 * request is sent again after 1, 2, 4… s (`webhooks.retryBaseMs`, up to a minute), and events
 * older than `webhooks.retryForMs` are dropped. All of it runs beside the broadcast path, never
 * in it: a slow receiver or Redis only delays webhooks.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('Webhooks');
  private readonly throttled = new ThrottledLog(this.log, 30_000);
  private readonly node = randomUUID();
  private readonly targets: TargetState[];
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private leading = false;
  private nextBid = 0;
  private nextGauge = 0;

  constructor(
    private readonly config: WebhooksConfig,
    api: ApiConfig,
    private readonly queue: WebhookQueue,
    private readonly metrics: RelayMetrics,
  ) {
    // The config was checked at load: no problems are left here.
    this.targets = resolveTargets(config, api.clients).targets.map((target) => ({
      target,
      sending: false,
      failures: 0,
      retryAt: 0,
    }));
  }

  onApplicationBootstrap(): void {
    if (this.targets.length === 0) return;
    this.log.log(`Sending webhooks to ${this.targets.map((t) => t.target.url).join(', ')}`);
    this.timer = setInterval(() => void this.tick(), Math.max(10, this.config.batchMs));
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]);
    clearTimeout(timer);
    // Requests in flight end on their own (at most `timeoutMs`); their batches stay queued until
    // trimmed, so the next sender sends again whatever they did not confirm.
    if (this.leading) await this.queue.resign(this.node).catch(() => undefined);
  }

  /** One step; skipped while the previous one runs (Redis slow or away). */
  private tick(): Promise<void> {
    this.running ??= this.step()
      .catch((err: Error) => this.throttled.warn('redis', `Webhook queue unavailable: ${err.message}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async step(): Promise<void> {
    const now = Date.now();
    if (!this.leading && now < this.nextBid) return;
    this.leading = await this.queue.lead(this.node, LOCK_MS);
    if (!this.leading) {
      this.nextBid = now + STANDBY_MS;
      this.metrics.webhookQueued.set(0);
      return;
    }
    await this.queue.releaseDue(MAX_BATCH * 10);
    const targets = this.targets.map((t) => t.target);
    const { queued, unreadable } = await this.queue.fanOut(targets, MAX_BATCH * 10);
    queued.forEach((count) => this.metrics.webhookEvents.inc({ result: 'queued' }, count));
    if (unreadable > 0) this.dropped(unreadable, 'unreadable entries in the outbox');
    for (const state of this.targets) {
      if (!state.sending && now >= state.retryAt) {
        state.sending = true;
        void this.deliver(state).finally(() => (state.sending = false));
      }
    }
    if (now >= this.nextGauge) {
      this.nextGauge = now + GAUGE_MS;
      this.metrics.webhookQueued.set(await this.queue.pending(targets));
    }
  }

  /** Sends the oldest events of one receiver; on success drops them from its queue. */
  private async deliver(state: TargetState): Promise<void> {
    const { target } = state;
    try {
      const raw = await this.queue.head(target, MAX_BATCH);
      if (raw.length === 0) return;
      const fresh = this.fresh(raw);
      if (fresh.length > 0) {
        const body = JSON.stringify({ time_ms: Date.now(), events: fresh.map(({ at: _at, ...event }) => event) });
        const result = await send(target, body, this.config.timeoutMs);
        if (!result.ok) return this.failed(state, fresh.length, result.reason);
        this.metrics.webhookEvents.inc({ result: 'sent' }, fresh.length);
      }
      state.failures = 0;
      await this.queue.drop(this.node, target, raw.length);
    } catch (err) {
      this.throttled.warn('redis', `Webhook queue unavailable: ${(err as Error).message}`);
    }
  }

  /** The readable events of a batch still inside `retryForMs`; the others are counted and dropped. */
  private fresh(raw: string[]): QueuedEvent[] {
    const oldest = Date.now() - this.config.retryForMs;
    const events = raw.map(parseEvent);
    const fresh = events.filter((e): e is QueuedEvent => e !== undefined && !(e.at < oldest));
    const unreadable = events.filter((e) => !e).length;
    if (unreadable > 0) this.dropped(unreadable, 'unreadable entries in a receiver queue');
    const stale = events.length - unreadable - fresh.length;
    if (stale > 0) this.dropped(stale, `undelivered for more than ${this.config.retryForMs} ms`);
    return fresh;
  }

  private failed(state: TargetState, count: number, reason: string): void {
    state.failures++;
    const wait = Math.min(MAX_BACKOFF_MS, this.config.retryBaseMs * 2 ** (state.failures - 1));
    state.retryAt = Date.now() + wait;
    this.metrics.webhookEvents.inc({ result: 'retried' }, count);
    this.throttled.warn(
      `send ${state.target.id}`,
      `Webhook to ${state.target.url} failed (${reason}); ${count} event(s) retried in ${wait} ms`,
    );
  }

  private dropped(count: number, why: string): void {
    this.metrics.webhookEvents.inc({ result: 'dropped' }, count);
    this.throttled.warn(`drop ${why}`, `Dropped ${count} webhook event(s): ${why}`);
  }
}
