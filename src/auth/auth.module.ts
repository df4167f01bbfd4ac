import { Module, type Provider } from '@nestjs/common';
import { AuthConfig } from './auth.config.js';
import { ChannelAuthService } from './channel-auth.service.js';
import { ChannelAuthorizer } from './channel-authorizer.js';
import { JwtAuthorizer } from './jwt/jwt-authorizer.js';
import { LaravelAuthorizer } from './laravel/laravel-authorizer.js';

/** `auth.driver` picks the authorizer; a bad key or CA file stops startup with a message naming it. */
const authorizerProvider: Provider = {
  provide: ChannelAuthorizer,
  inject: [AuthConfig],
  useFactory: (config: AuthConfig): ChannelAuthorizer =>
    config.driver === 'jwt' ? new JwtAuthorizer(config) : new LaravelAuthorizer(config),
};

@Module({
  providers: [authorizerProvider, ChannelAuthService],
  exports: [ChannelAuthorizer, ChannelAuthService],
})
export class AuthModule {}
