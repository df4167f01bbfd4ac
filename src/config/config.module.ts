import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ApiConfig } from './api.config.js';
import { AuthConfig } from './auth.config.js';
import { PresenceConfig, WhisperConfig } from './channels.config.js';
import { BroadcastConfig, LogConfig, RedisConfig, RelayConfig, ServerConfig, ShutdownConfig } from './relay-config.js';

/**
 * Provides the validated configuration, whole and per feature: a feature injects the slice it
 * needs by its class (`constructor(private readonly redis: RedisConfig)`). Nothing reads
 * `process.env` after `loadConfig`.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: RelayConfig): DynamicModule {
    const providers = [
      { provide: RelayConfig, useValue: config },
      { provide: ServerConfig, useValue: config.server },
      { provide: RedisConfig, useValue: config.redis },
      { provide: BroadcastConfig, useValue: config.broadcast },
      { provide: LogConfig, useValue: config.log },
      { provide: ShutdownConfig, useValue: config.shutdown },
      { provide: AuthConfig, useValue: config.auth },
      { provide: PresenceConfig, useValue: config.presence },
      { provide: WhisperConfig, useValue: config.whispers },
      { provide: ApiConfig, useValue: config.api },
    ];
    return { module: ConfigModule, providers, exports: providers.map((p) => p.provide) };
  }
}
