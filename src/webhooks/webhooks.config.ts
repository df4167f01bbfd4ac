import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateNested,
} from '../internals/class-validator.js';
import type { ConfigSlice } from '../config/config-slice.js';
import type { ApiConfig } from '../http-api/api.config.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhook-events.js';
import { resolveTargets } from './webhook-targets.js';

/** Which channels a webhook is about; both conditions must hold when both are set. */
export class WebhookFilterConfig {
  /** Only channels whose name starts with this. @default undefined */
  @IsOptional() @IsString() channel_name_starts_with?: string;
  /** Only channels whose name ends with this. @default undefined */
  @IsOptional() @IsString() channel_name_ends_with?: string;
}

/** One receiver of webhooks, as an entry of the `webhooks` array of the config file. */
export class WebhookTargetConfig {
  /** Where events are POSTed (`http` or `https`). */
  @IsString() url!: string;
  /**
   * The `clients` entry whose `key` and `secret` sign the requests.
   * @default the first `clients` entry with a `secret`
   */
  @IsOptional() @IsString() appId?: string;
  /** Events this receiver gets. @default every type */
  @IsOptional() @IsArray() @IsIn(WEBHOOK_EVENT_TYPES, { each: true }) event_types?: WebhookEventType[];
  /** Channels this receiver hears about. @default every channel */
  // IsObject: ValidateNested alone takes a list for a list of filters.
  @IsOptional() @IsObject() @ValidateNested() @Type(() => WebhookFilterConfig) filter?: WebhookFilterConfig;
  /** Extra request headers (an API token of the receiver, say). @default {} */
  @IsOptional() @IsObject() headers?: Record<string, string>;
}

/** Signed webhooks in Pusher's format, for channels filling and emptying, members, and client events. */
export class WebhooksConfig {
  /** Receivers; the config file's top-level `webhooks` array. @default [] */
  @IsArray() @ValidateNested({ each: true }) @Type(() => WebhookTargetConfig) targets!: WebhookTargetConfig[];
  /** One more receiver of every event, by URL alone (the env form). @default '' */
  @IsString() url!: string;
  /** Events of one receiver are collected this long before one request carries them. @default 50 */
  @IsInt() @Min(0) @Max(60_000) batchMs!: number;
  /**
   * `channel_vacated` and `member_removed` are held this long and dropped if the channel or user
   * comes back meanwhile, so a page reload sends nothing. @default 3000
   */
  @IsInt() @Min(0) @Max(600_000) leaveDelayMs!: number;
  /** A receiver that has not answered after this long has failed (and the batch is retried). @default 5000 */
  @IsInt() @Min(100) @Max(120_000) timeoutMs!: number;
  /** First wait after a failure; each further failure doubles it, up to a minute. @default 1000 */
  @IsInt() @Min(10) @Max(60_000) retryBaseMs!: number;
  /** Events still undelivered this long after they happened are dropped (and counted). @default 300000 */
  @IsInt() @Min(1000) @Max(86_400_000) retryForMs!: number;
}

export const webhooksConfigSlice: ConfigSlice<WebhooksConfig> = {
  type: WebhooksConfig,
  defaults: () => ({
    targets: [],
    url: '',
    batchMs: 50,
    leaveDelayMs: 3000,
    timeoutMs: 5000,
    retryBaseMs: 1000,
    retryForMs: 300_000,
  }),
  keys: [
    {
      path: 'webhooks.targets',
      file: 'webhooks',
      env: ['ECHO_RELAY_WEBHOOKS'],
      kind: 'json',
      entryKeys: ['url', 'appId', 'event_types', 'filter', 'headers'],
    },
    { path: 'webhooks.url', file: 'webhookUrl', env: ['ECHO_RELAY_WEBHOOK_URL'], kind: 'string' },
    { path: 'webhooks.batchMs', file: 'webhookBatchMs', env: ['ECHO_RELAY_WEBHOOK_BATCH_MS'], kind: 'int' },
    {
      path: 'webhooks.leaveDelayMs',
      file: 'webhookLeaveDelayMs',
      env: ['ECHO_RELAY_WEBHOOK_LEAVE_DELAY_MS'],
      kind: 'int',
    },
    { path: 'webhooks.timeoutMs', file: 'webhookTimeoutMs', env: ['ECHO_RELAY_WEBHOOK_TIMEOUT_MS'], kind: 'int' },
    {
      path: 'webhooks.retryBaseMs',
      file: 'webhookRetryBaseMs',
      env: ['ECHO_RELAY_WEBHOOK_RETRY_BASE_MS'],
      kind: 'int',
    },
    {
      path: 'webhooks.retryForMs',
      file: 'webhookRetryForMs',
      env: ['ECHO_RELAY_WEBHOOK_RETRY_FOR_MS'],
      kind: 'int',
    },
  ],
  check(section, config) {
    const api = config.api as ApiConfig;
    return resolveTargets(section, api.clients).problems;
  },
};
