import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, Min, ValidateNested } from '../internals/class-validator.js';
import type { ConfigKey, ConfigSlice } from '../config/config-slice.js';
import { labelIn } from '../config/key-label.js';
import { hostProblems, type ServerConfig } from '../server/server.config.js';

/** One app allowed to call the HTTP API; the old `clients[]` entries. */
export class ApiClientConfig {
  @IsString() appId!: string;
  @IsString() key!: string;
  /**
   * Signs the webhooks sent for this app, and verifies its requests to Pusher's HTTP API (an app
   * without one has none). Never accepted as an API key. @default undefined
   */
  @IsOptional() @IsString() secret?: string;
}

/** CORS for `/apps/...`, from the old `apiOriginAllow` block. Sockets have their own `allowedOrigins`. */
export class ApiCorsConfig {
  /** Answer CORS requests at all (the old `allowCors`). @default false */
  @IsBoolean() enabled!: boolean;
  /**
   * Origins allowed to call the API from a browser, `scheme://host[:port]` or `*`; the old
   * `allowOrigin` (one origin) or a comma-separated list. Default ports are ignored when comparing,
   * so the old README's `http://localhost:80` matches `http://localhost`. @default []
   */
  @IsString({ each: true }) origins!: string[];
  /** `Access-Control-Allow-Methods` (the old `allowMethods`). @default ['GET', 'POST'] */
  @IsString({ each: true }) methods!: string[];
  /** `Access-Control-Allow-Headers` (the old `allowHeaders`). @default ['Authorization', 'Content-Type', 'X-Requested-With', 'X-Socket-Id'] */
  @IsString({ each: true }) headers!: string[];
}

/** The laravel-echo-server HTTP API. */
export class ApiConfig {
  /** Apps and their keys for `/apps/:appId/...`. @default [] */
  @ValidateNested({ each: true }) @Type(() => ApiClientConfig) clients!: ApiClientConfig[];
  /** Accept `POST /apps/:appId/events` (the old `subscribers.http`). @default true */
  @IsBoolean() publish!: boolean;
  /** Larger request bodies are refused with 413. @default 102400 */
  @IsInt() @Min(1) maxBodyBytes!: number;
  /**
   * Serve the HTTP API and `/metrics` on their own plain-HTTP listener on this port (0 picks a free
   * one) instead of the main port, so they need not be exposed with the WebSocket port. Unset: main
   * port. @default undefined
   */
  @IsOptional() @IsInt() @Min(0) @Max(65535) port?: number;
  /** Interface of that listener; empty means every interface. @default '' */
  @IsString() host!: string;
  @ValidateNested() @Type(() => ApiCorsConfig) cors!: ApiCorsConfig;
}

const KEYS: readonly ConfigKey[] = [
  {
    path: 'api.clients',
    file: 'clients',
    env: ['ECHO_RELAY_CLIENTS'],
    kind: 'json',
    entryKeys: ['appId', 'key', 'secret'],
  },
  { path: 'api.publish', file: 'subscribers.http', env: ['ECHO_RELAY_SUBSCRIBE_HTTP'], kind: 'bool' },
  { path: 'api.maxBodyBytes', file: 'apiMaxBodyBytes', env: ['ECHO_RELAY_API_MAX_BODY_BYTES'], kind: 'int' },
  { path: 'api.port', file: 'apiPort', env: ['ECHO_RELAY_API_PORT'], kind: 'int' },
  { path: 'api.host', file: 'apiHost', env: ['ECHO_RELAY_API_HOST'], kind: 'string', nullable: true },
  { path: 'api.cors.enabled', file: 'apiOriginAllow.allowCors', env: ['ECHO_RELAY_API_CORS'], kind: 'bool' },
  {
    path: 'api.cors.origins',
    file: 'apiOriginAllow.allowOrigin',
    env: ['ECHO_RELAY_API_CORS_ORIGINS'],
    kind: 'list',
  },
  {
    path: 'api.cors.methods',
    file: 'apiOriginAllow.allowMethods',
    env: ['ECHO_RELAY_API_CORS_METHODS'],
    kind: 'list',
  },
  {
    path: 'api.cors.headers',
    file: 'apiOriginAllow.allowHeaders',
    env: ['ECHO_RELAY_API_CORS_HEADERS'],
    kind: 'list',
  },
];

export const apiConfigSlice: ConfigSlice<ApiConfig> = {
  type: ApiConfig,
  defaults: () => ({
    clients: [],
    publish: true,
    maxBodyBytes: 100 * 1024,
    host: '',
    cors: {
      enabled: false,
      origins: [],
      methods: ['GET', 'POST'],
      headers: ['Authorization', 'Content-Type', 'X-Requested-With', 'X-Socket-Id'],
    },
  }),
  keys: KEYS,
  /**
   * The API's own listener on the main port would fail its listen after the main one bound it,
   * reported as the main port being in use: name the API's keys instead.
   */
  check(section, config) {
    const server = config.server as ServerConfig;
    const problems = hostProblems(section.host, labelIn(KEYS, 'api.host'));
    const sameInterface = !section.host || !server.host || section.host === server.host;
    if (section.port !== undefined && section.port !== 0 && section.port === server.port && sameInterface) {
      problems.push(
        `${labelIn(KEYS, 'api.port')}: ${section.port} is the main port (server.port); leave apiPort unset to serve the API there, or pick another port`,
      );
    }
    return problems;
  },
};
