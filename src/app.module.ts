import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { BroadcastModule } from './broadcast/broadcast.module.js';
import { ChannelsModule } from './channels/channels.module.js';
import { ConfigModule } from './config/config.module.js';
import type { RelayConfig } from './config/relay-config.js';
import { GatewayModule } from './gateway/gateway.module.js';
import { HealthModule } from './health/health.module.js';
import { HttpApiModule } from './http-api/http-api.module.js';
import { LifecycleModule } from './lifecycle/lifecycle.module.js';
import { MetricsEndpointModule } from './metrics/metrics-endpoint.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { PusherModule } from './pusher/pusher.module.js';
import { PusherApiModule } from './pusher-api/pusher-api.module.js';
import { RecoveryModule } from './recovery/recovery.module.js';

/**
 * Redis → broadcast (validation) → gateways (socket.io, Pusher) → rooms; health, the HTTP API and
 * metrics beside it.
 */
@Module({})
export class AppModule {
  /** `optional`: features loaded only when configured (the Admin UI), imported after the rest. */
  static forRoot(config: RelayConfig, optional: Type[] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        MetricsModule,
        LifecycleModule,
        RecoveryModule,
        GatewayModule,
        PusherModule,
        BroadcastModule,
        HealthModule,
        ChannelsModule,
        HttpApiModule,
        PusherApiModule,
        MetricsEndpointModule,
        ...optional,
      ],
    };
  }
}
