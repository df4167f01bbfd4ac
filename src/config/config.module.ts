import { Global, Module, type DynamicModule, type ValueProvider } from '@nestjs/common';
import { RelayConfig, configSlices } from './relay-config.js';

/**
 * Provides the validated configuration, whole and per feature: a feature injects the section it
 * needs by its class (`constructor(private readonly redis: RedisConfig)`), one provider per slice
 * of `CONFIG_SLICES`. Nothing reads `process.env` after `loadConfig`.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: RelayConfig): DynamicModule {
    const providers: ValueProvider[] = [
      { provide: RelayConfig, useValue: config },
      ...configSlices().map(([name, slice]) => ({ provide: slice.type, useValue: config[name] })),
    ];
    return { module: ConfigModule, providers, exports: providers.map((p) => p.provide) };
  }
}
