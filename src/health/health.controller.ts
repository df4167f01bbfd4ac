import { Controller, Get, Header, type BeforeApplicationShutdown } from '@nestjs/common';
import { down, healthCheck, HEALTH_CACHE_CONTROL, up, type HealthCheckResult } from './health-check.js';
import { LaravelRedisServer } from '../internals/laravel-redis.server.js';
import { BroadcastConfig } from '../broadcast/broadcast.config.js';
import { LifecycleService } from '../lifecycle/lifecycle.service.js';
import { RecoveryConfig } from '../recovery/recovery.config.js';
import { RecoveryFeed } from '../recovery/recovery-feed.js';
import { Sequencer } from '../recovery/sequencer.js';

/** Probes for load balancers and orchestrators; never behind a key. */
@Controller()
export class HealthController implements BeforeApplicationShutdown {
  /** Set when the app starts closing: both probes answer 503 `shutting_down`, as terminus's did. */
  private shuttingDown = false;

  constructor(
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
  @Header('Cache-Control', HEALTH_CACHE_CONTROL)
  live(): HealthCheckResult {
    return healthCheck([up('process', { uptime: Math.round(process.uptime()) })], this.shuttingDown);
  }

  /**
   * Readiness: 200 only while a Redis subscription is live (with recovery on, the history's
   * notifications too, and the history takes appends: broadcasts are delivered from it) and the node
   * is not shutting down.
   */
  @Get('ready')
  @Header('Cache-Control', HEALTH_CACHE_CONTROL)
  ready(): HealthCheckResult {
    return healthCheck([this.lifecycleCheck(), this.redisCheck(), this.recoveryCheck()], this.shuttingDown);
  }

  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
  }

  private lifecycleCheck(): ReturnType<typeof up> {
    return this.lifecycle.draining ? down('lifecycle', { message: 'shutting down' }) : up('lifecycle');
  }

  private redisCheck(): ReturnType<typeof up> {
    if (!this.broadcast.redis) return up('redis', { message: 'Redis subscription disabled by config' });
    return this.subscriber.subscribed ? up('redis') : down('redis', { message: 'not subscribed to Redis' });
  }

  private recoveryCheck(): ReturnType<typeof up> {
    if (!this.recovery.enabled) return up('recovery', { message: 'recovery disabled by config' });
    if (!this.feed.subscribed) return down('recovery', { message: 'not receiving the history' });
    // A sequencer that died is replaced within a lease and what it missed is rescued after half a
    // lease: a broadcast waiting two leases and a second means the history cannot be written (e.g.
    // its Cluster slot is down).
    const waiting = this.sequencer.oldestWaitingMs();
    if (waiting > 2 * this.recovery.leaseMs + 1000) {
      return down('recovery', { message: `broadcasts waiting ${waiting} ms for the history` });
    }
    return up('recovery');
  }
}
