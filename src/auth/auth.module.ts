import { Module, type Provider } from '@nestjs/common';
import { AuthConfig } from './auth.config.js';
import { ChannelAuthService } from './channel-auth.service.js';
import { ChannelAuthorizer } from './channel-authorizer.js';
import { JwtAuthorizer } from './jwt/jwt-authorizer.js';
import { LaravelAuthorizer } from './laravel/laravel-authorizer.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import { LimitsConfig } from '../limits/limits.config.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';

/**
 * `auth.driver` picks the authorizer; a bad key or CA file stops startup with a message naming it.
 * Only the Laravel driver calls out per subscribe, so only it gets the node's `authConcurrency` slots.
 */
const authorizerProvider: Provider = {
  provide: ChannelAuthorizer,
  inject: [AuthConfig, LimitsConfig, RelayMetrics],
  useFactory: (config: AuthConfig, limits: LimitsConfig, metrics: RelayMetrics): ChannelAuthorizer =>
    config.driver === 'jwt'
      ? new JwtAuthorizer(config)
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
