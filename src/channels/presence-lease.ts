import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { leaseRenewalMs, PresenceConfig } from './channels.config.js';
import { PresenceService } from './presence.service.js';
import { RedisPresenceStore } from './redis-presence.store.js';

/** How long a graceful stop waits to remove this node's members before leaving it to the lease. */
const RELEASE_TIMEOUT_MS = 2000;

/**
 * Keeps this node's presence entries alive and cleans up after dead nodes: four times per lease it
 * renews its own lease and purges nodes whose lease ran out, so a node that dies without cleaning
 * up leaves ghost members for at most one lease.
 *
 * A Redis failover stalls every node's renewal alike (commands wait for the promoted replica, see
 * `createRedisClient`): that is no sign of a dead node, so nobody's members are purged, and no
 * warning is logged, unless it lasts long enough to put the lease at risk.
 */
@Injectable()
export class PresenceLease implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('Presence');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** When the lease was last renewed (this process's clock). */
  private renewedAt = Date.now();
  /** `store.connectionLosses` when this node's entries were last written after one. */
  private losses = 0;
  /** No sweep before this time: see `renewAndSweep`. */
  private sweepFrom = 0;

  constructor(
    private readonly store: RedisPresenceStore,
    private readonly presence: PresenceService,
    private readonly config: PresenceConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.renewedAt = Date.now();
    void this.tick();
    this.timer = setInterval(() => void this.tick(), leaseRenewalMs(this.config.leaseMs));
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    // A tick in flight is not awaited: without Redis it would never end.
    try {
      await this.presence.release(RELEASE_TIMEOUT_MS);
    } catch (err) {
      this.log.warn(`Could not remove this node's presence members (the lease will): ${(err as Error).message}`);
    }
  }

  /** One renewal and sweep; skipped while the previous one still runs (Redis slow or away). */
  private tick(): Promise<void> {
    this.running ??= this.renewAndSweep().finally(() => (this.running = undefined));
    return this.running;
  }

  private async renewAndSweep(): Promise<void> {
    try {
      const lease = await this.store.renewLease();
      // Renewed late: Redis was out of reach for this node, so for the others too. Their
      // connections find the new master one by one (a sentinel may still name the old one for
      // a while), so their leases are judged again only a lease from now: a node that died
      // meanwhile leaves its members for one lease more. Redis holds every node's sweep alike
      // after a silence of them all (`settling`, HEARTBEAT_SCRIPT) for up to `FORGIVEN_PAUSE_MS`;
      // this node's own hold also covers a longer outage, after which Redis remembers none.
      const now = Date.now();
      const late = now - this.renewedAt > this.config.leaseMs / 2;
      this.renewedAt = now;
      if (late) this.sweepFrom = now + this.config.leaseMs;
      const losses = this.store.connectionLosses;
      // Joining is announced again only to those who were told about the departure.
      // Lapsed only because this renewal waited for Redis: nobody purged the entries, and the
      // sweeps waiting after a late renewal gave this node the time to renew.
      if (lease !== 'held') await this.presence.reregister(lease === 'purged', late && lease === 'lapsed');
      else if (losses !== this.losses) await this.presence.reregister(false, true);
      this.losses = losses;
      if (now >= this.sweepFrom) this.presence.announce(await this.store.purgeExpired());
    } catch (err) {
      // The lease runs three quarters of leaseMs from a renewal: past half of it, a quarter is left.
      const message = `Presence lease renewal failed: ${(err as Error).message}`;
      if (Date.now() - this.renewedAt > this.config.leaseMs / 2) this.log.warn(message);
      else this.log.debug(message);
    }
  }
}
