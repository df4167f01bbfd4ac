import { Module, type Provider } from '@nestjs/common';
import { AuthConfig } from './auth.config.js';
import { ChannelAuthService } from './channel-auth.service.js';
import { ChannelAuthorizer } from './channel-authorizer.js';
import { LaravelAuthorizer } from './laravel/laravel-authorizer.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import { LimitsConfig } from '../limits/limits.config.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';

/**
 * `auth.driver` picks the authorizer; a bad key or CA file stops startup with a message naming it.
 * Only the Laravel driver calls out per subscribe, so only it gets the node's `authConcurrency` slots.
 * The JWT driver (and jose, ~45 modules) is imported only when configured, to keep it out of every
 * other boot.
 */
const authorizerProvider: Provider = {
  provide: ChannelAuthorizer,
  inject: [AuthConfig, LimitsConfig, RelayMetrics],
  useFactory: async (config: AuthConfig, limits: LimitsConfig, metrics: RelayMetrics): Promise<ChannelAuthorizer> =>
    config.driver === 'jwt'
      ? new (await import('./jwt/jwt-authorizer.js')).JwtAuthorizer(config)
      : new LaravelAuthorizer(
          config,
          new ConcurrencyLimit(limits.authConcurrency, (delta) => metrics.authWaiting.inc({ limit: 'node' }, delta)),
        ),
};

@Module({
  providers: [authorizerProvider, ChannelAuthService],
  exports: [ChannelAuthorizer, ChannelAuthService],
})
export class AuthModule {}
