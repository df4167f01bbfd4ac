import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsOptional, IsString, ValidateNested } from '../internals/class-validator.js';
import { AuthConfig, authConfigSlice } from '../auth/auth.config.js';
import { BroadcastConfig, broadcastConfigSlice } from '../broadcast/broadcast.config.js';
import { PresenceConfig, WhisperConfig, presenceConfigSlice, whisperConfigSlice } from '../channels/channels.config.js';
import type { PlainObject } from '../common/plain-object.js';
import { ApiConfig, apiConfigSlice } from '../http-api/api.config.js';
import { LimitsConfig, limitsConfigSlice } from '../limits/limits.config.js';
import { PusherConfig, pusherConfigSlice } from '../pusher/pusher.config.js';
import { RecoveryConfig, recoveryConfigSlice } from '../recovery/recovery.config.js';
import { ShutdownConfig, shutdownConfigSlice } from '../lifecycle/shutdown.config.js';
import { LogConfig, logConfigSlice } from '../logging/log.config.js';
import { RedisConfig, redisConfigSlice } from '../redis/redis.config.js';
import { ServerConfig, serverConfigSlice } from '../server/server.config.js';
import { WebhooksConfig, webhooksConfigSlice } from '../webhooks/webhooks.config.js';
import { AdminUiConfig, adminUiConfigSlice } from '../admin-ui/admin-ui.config.js';
import type { ConfigSlice } from './config-slice.js';

/**
 * The whole, validated configuration: one section per feature, each defined (fields, defaults,
 * keys) in its feature's `*.config.ts`. Built once at startup by `loadConfig`.
 */
export class RelayConfig {
  @ValidateNested() @Type(() => ServerConfig) server!: ServerConfig;
  @ValidateNested() @Type(() => RedisConfig) redis!: RedisConfig;
  @ValidateNested() @Type(() => BroadcastConfig) broadcast!: BroadcastConfig;
  @ValidateNested() @Type(() => LogConfig) log!: LogConfig;
  @ValidateNested() @Type(() => ShutdownConfig) shutdown!: ShutdownConfig;
  @ValidateNested() @Type(() => AuthConfig) auth!: AuthConfig;
  @ValidateNested() @Type(() => PresenceConfig) presence!: PresenceConfig;
  @ValidateNested() @Type(() => WhisperConfig) whispers!: WhisperConfig;
  @ValidateNested() @Type(() => ApiConfig) api!: ApiConfig;
  @ValidateNested() @Type(() => LimitsConfig) limits!: LimitsConfig;
  @ValidateNested() @Type(() => RecoveryConfig) recovery!: RecoveryConfig;
  @ValidateNested() @Type(() => WebhooksConfig) webhooks!: WebhooksConfig;
  @ValidateNested() @Type(() => AdminUiConfig) adminUi!: AdminUiConfig;
  @ValidateNested() @Type(() => PusherConfig) pusher!: PusherConfig;
  /** Where the old laravel-echo-server.json came from, if any. */
  @IsOptional() @IsString() sourceFile?: string;
}

export type ConfigSection = Exclude<keyof RelayConfig, 'sourceFile'>;

/** Each section's slice, by its name in `RelayConfig` (the compiler checks that they match). */
export const CONFIG_SLICES: { readonly [K in ConfigSection]: ConfigSlice<RelayConfig[K]> } = {
  server: serverConfigSlice,
  redis: redisConfigSlice,
  broadcast: broadcastConfigSlice,
  log: logConfigSlice,
  shutdown: shutdownConfigSlice,
  auth: authConfigSlice,
  presence: presenceConfigSlice,
  whispers: whisperConfigSlice,
  api: apiConfigSlice,
  limits: limitsConfigSlice,
  recovery: recoveryConfigSlice,
  webhooks: webhooksConfigSlice,
  adminUi: adminUiConfigSlice,
  pusher: pusherConfigSlice,
};

/** The slices with their section names, in `RelayConfig`'s order. */
export function configSlices(): [ConfigSection, ConfigSlice<object>][] {
  return Object.entries(CONFIG_SLICES) as [ConfigSection, ConfigSlice<object>][];
}

/** Every section's defaults, shaped like `RelayConfig`. */
export function defaultConfig(): PlainObject {
  return Object.fromEntries(configSlices().map(([name, slice]) => [name, slice.defaults()]));
}
