import { Controller, Get, Header } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { LaravelRedisServer } from '../internals/laravel-redis.server.js';
import { BroadcastConfig } from '../broadcast/broadcast.config.js';
import { LifecycleService } from '../lifecycle/lifecycle.service.js';
import { RecoveryConfig } from '../recovery/recovery.config.js';
import { RecoveryFeed } from '../recovery/recovery-feed.js';
import { Sequencer } from '../recovery/sequencer.js';

/** Probes for load balancers and orchestrators; never behind a key. */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly subscriber: LaravelRedisServer,
    private readonly lifecycle: LifecycleService,
    private readonly broadcast: BroadcastConfig,
    private readonly recovery: RecoveryConfig,
    private readonly feed: RecoveryFeed,
    private readonly sequencer: Sequencer,
  ) {}

  /** The old server's root answer, kept for monitors that poll it. */
  @Get()
  @Header('Content-Type', 'text/plain; charset=utf-8')
  root(): string {
    return 'OK';
  }

  /** Liveness: 200 while the process serves requests. */
  @Get('health')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([() => this.indicators.check('process').up({ uptime: Math.round(process.uptime()) })]);
  }

  /**
   * Readiness: 200 only while a Redis subscription is live (with recovery on, the history's
   * notifications too, and the history takes appends: broadcasts are delivered from it) and the node
   * is not shutting down.
   */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => {
        const session = this.indicators.check('lifecycle');
        return this.lifecycle.draining ? session.down({ message: 'shutting down' }) : session.up();
      },
      () => {
        const session = this.indicators.check('redis');
        if (!this.broadcast.redis) return session.up({ message: 'Redis subscription disabled by config' });
        return this.subscriber.subscribed ? session.up() : session.down({ message: 'not subscribed to Redis' });
      },
      () => {
        const session = this.indicators.check('recovery');
        if (!this.recovery.enabled) return session.up({ message: 'recovery disabled by config' });
        if (!this.feed.subscribed) return session.down({ message: 'not receiving the history' });
        // A sequencer that died is replaced within a lease and what it missed is rescued after two:
        // a broadcast waiting longer means the history cannot be written (e.g. its Cluster slot is down).
        const waiting = this.sequencer.oldestWaitingMs();
        if (waiting > 2 * this.recovery.leaseMs + 1000) {
          return session.down({ message: `broadcasts waiting ${waiting} ms for the history` });
        }
        return session.up();
      },
    ]);
  }
}
