import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { ApiConfig, defaultApiConfig } from './api.config.js';
import { AuthConfig, defaultAuthConfig } from './auth.config.js';
import { PresenceConfig, WhisperConfig, defaultPresenceConfig, defaultWhisperConfig } from './channels.config.js';

/** How the HTTP/WebSocket listener is exposed. */
export class ServerConfig {
  /** Interface to bind; empty means every interface (the old server's `host: null`). @default '' */
  @IsString() host!: string;
  /** Port for HTTP, the HTTP API and socket.io. @default 6001 */
  @IsInt() @Min(0) @Max(65535) port!: number;
  /** `https` serves HTTPS/WSS with the certificate files below. @default 'http' */
  @IsIn(['http', 'https']) protocol!: 'http' | 'https';
  /** PEM certificate; reloaded when the file changes. @default '' */
  @IsString() sslCertPath!: string;
  /** PEM private key; reloaded when the file changes. @default '' */
  @IsString() sslKeyPath!: string;
  /** Optional PEM chain (intermediate certificates). @default '' */
  @IsString() sslCertChainPath!: string;
  /** Passphrase of the private key. @default '' */
  @IsString() sslPassphrase!: string;
  /**
   * Origins allowed to open sockets (exact `scheme://host[:port]`, or `*`). Empty allows any origin,
   * like the old server, and logs a warning at startup. @default []
   */
  @IsString({ each: true }) allowedOrigins!: string[];
  /** Extra socket.io server options (the old file's `socketio` block). @default {} */
  @IsObject() socketio!: Record<string, unknown>;
}

/** The Redis that carries Laravel's broadcasts. */
export class RedisConfig {
  /** `redis://` or `rediss://` URL; when set it wins over host/port/password/db. @default '' */
  @IsString() url!: string;
  /** @default '127.0.0.1' */
  @IsString() host!: string;
  /** @default 6379 */
  @IsInt() @Min(1) @Max(65535) port!: number;
  /** @default '' */
  @IsString() username!: string;
  /** @default '' */
  @IsString() password!: string;
  /** @default 0 */
  @IsInt() @Min(0) db!: number;
  /** Connect with TLS. @default false */
  @IsBoolean() tls!: boolean;
  /**
   * Laravel's `database.redis.options.prefix` (`REDIS_PREFIX`), stripped from channel names on
   * ingest; the subscription pattern is `<prefix>*`. @default ''
   */
  @IsString() prefix!: string;
  /**
   * Redis Sentinel: sentinel addresses (`host:port` or `{host, port}`); when set, `sentinelName`
   * names the master and host/port are ignored. @default []
   */
  @IsArray() sentinels!: (string | { host: string; port: number })[];
  /** Master name monitored by the sentinels. @default 'mymaster' */
  @IsString() sentinelName!: string;
  /** Password of the sentinels themselves, if they need one. @default '' */
  @IsString() sentinelPassword!: string;
  /** Redis Cluster: seed nodes as `host:port`; when set, host/port/db are ignored. @default [] */
  @IsString({ each: true }) clusterNodes!: string[];
  /** Further ioredis options passed through unchanged (the old `databaseConfig.redis`). @default {} */
  @IsObject() options!: Record<string, unknown>;
}

/** Ingest of broadcasts published by Laravel. */
export class BroadcastConfig {
  /** Subscribe to Redis at all (the old `subscribers.redis`). @default true */
  @IsBoolean() redis!: boolean;
  /** Messages larger than this many bytes are dropped and counted. @default 1048576 */
  @IsInt() @Min(1) maxMessageBytes!: number;
}

/** Log output. */
export class LogConfig {
  /** Lowest level written. @default 'info' */
  @IsIn(['debug', 'info', 'warn', 'error']) level!: 'debug' | 'info' | 'warn' | 'error';
  /** `json` writes one JSON object a line; `pretty` is for terminals; `auto` picks by TTY. @default 'auto' */
  @IsIn(['auto', 'json', 'pretty']) format!: 'auto' | 'json' | 'pretty';
  /** The old `devMode`: per-message and per-subscribe debug lines. @default false */
  @IsBoolean() devMode!: boolean;
}

/** Stopping. */
export class ShutdownConfig {
  /** Hard limit for a graceful stop, after which the process exits anyway. @default 10000 */
  @IsInt() @Min(100) timeoutMs!: number;
  /**
   * After readiness fails, keep serving this long so load balancers stop sending new clients
   * (set it above the balancer's readiness probe period). @default 0
   */
  @IsInt() @Min(0) graceMs!: number;
  /** Spread the disconnection of this node's clients over this long, in jittered batches. @default 1000 */
  @IsInt() @Min(0) disconnectSpreadMs!: number;
}

/** The whole, validated configuration. Built once at startup by `loadConfig`. */
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
  /** Where the old laravel-echo-server.json came from, if any. */
  @IsOptional() @IsString() sourceFile?: string;
}

/** A deep-partial view used for each configuration layer before merging. */
export type ConfigLayer = {
  [K in keyof RelayConfig]?: RelayConfig[K] extends object ? Partial<RelayConfig[K]> : RelayConfig[K];
};

/** Defaults: the old server's behaviour where it had one. */
export function defaultConfig(): ConfigLayer {
  return {
    server: {
      host: '',
      port: 6001,
      protocol: 'http',
      sslCertPath: '',
      sslKeyPath: '',
      sslCertChainPath: '',
      sslPassphrase: '',
      allowedOrigins: [],
      socketio: {},
    },
    redis: {
      url: '',
      host: '127.0.0.1',
      port: 6379,
      username: '',
      password: '',
      db: 0,
      tls: false,
      prefix: '',
      sentinels: [],
      sentinelName: 'mymaster',
      sentinelPassword: '',
      clusterNodes: [],
      options: {},
    },
    broadcast: { redis: true, maxMessageBytes: 1024 * 1024 },
    log: { level: 'info', format: 'auto', devMode: false },
    shutdown: { timeoutMs: 10_000, graceMs: 0, disconnectSpreadMs: 1_000 },
    auth: defaultAuthConfig(),
    presence: defaultPresenceConfig(),
    whispers: defaultWhisperConfig(),
    api: defaultApiConfig(),
  };
}
