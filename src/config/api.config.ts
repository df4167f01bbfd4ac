import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsBoolean, IsString, ValidateNested } from 'class-validator';
import type { ConfigKey } from './config-keys.js';

/** One app allowed to call the HTTP API; the old `clients[]` entries. */
export class ApiClientConfig {
  @IsString() appId!: string;
  @IsString() key!: string;
}

/** The laravel-echo-server HTTP API (the HTTP API feature owns this section). */
export class ApiConfig {
  /** Apps and their keys for `/apps/:appId/...`. @default [] */
  @ValidateNested({ each: true }) @Type(() => ApiClientConfig) clients!: ApiClientConfig[];
  /** Accept `POST /apps/:appId/events` (the old `subscribers.http`). @default true */
  @IsBoolean() publish!: boolean;
}

export const API_CONFIG_KEYS: readonly ConfigKey[] = [
  { path: 'api.clients', file: 'clients', env: ['ECHO_RELAY_CLIENTS'], kind: 'json' },
  { path: 'api.publish', file: 'subscribers.http', env: ['ECHO_RELAY_SUBSCRIBE_HTTP'], kind: 'bool' },
];

export function defaultApiConfig(): Partial<ApiConfig> {
  return { clients: [], publish: true };
}
