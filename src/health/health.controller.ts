import { Controller, Get, Header } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { LaravelRedisServer } from '../internals/laravel-redis.server.js';
import { BroadcastConfig } from '../broadcast/broadcast.config.js';
import { LifecycleService } from '../lifecycle/lifecycle.service.js';
import { RecoveryConfig } from '../recovery/recovery.config.js';
import { RecoveryFeed } from '../recovery/recovery-feed.js';

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
   * Readiness: 200 only while the Redis subscription is live (with recovery on, the history's
   * notifications too: broadcasts are delivered from them) and the node is not shutting down.
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
        return this.feed.subscribed ? session.up() : session.down({ message: 'not receiving the history' });
      },
    ]);
  }
}
