/**
 * One table says where every setting can come from: its path in `RelayConfig`, its key in an old
 * laravel-echo-server.json, and its environment variables (later names win). The loader, the error
 * messages and the README's config table all follow it.
 */
import { API_CONFIG_KEYS } from './api.config.js';
import { AUTH_CONFIG_KEYS } from './auth.config.js';
import { CHANNELS_CONFIG_KEYS } from './channels.config.js';

export type ValueKind = 'string' | 'int' | 'bool' | 'list' | 'json';

export interface ConfigKey {
  /** Dotted path in `RelayConfig`. */
  path: string;
  /** Dotted path in laravel-echo-server.json, if the old file has this setting. */
  file?: string;
  /** Environment variables, lowest precedence first. */
  env: string[];
  kind: ValueKind;
}

const CORE_CONFIG_KEYS: readonly ConfigKey[] = [
  { path: 'server.host', file: 'host', env: ['LARAVEL_ECHO_SERVER_HOST', 'ECHO_RELAY_HOST'], kind: 'string' },
  { path: 'server.port', file: 'port', env: ['LARAVEL_ECHO_SERVER_PORT', 'PORT'], kind: 'int' },
  {
    path: 'server.protocol',
    file: 'protocol',
    env: ['LARAVEL_ECHO_SERVER_PROTO', 'ECHO_RELAY_PROTOCOL'],
    kind: 'string',
  },
  {
    path: 'server.sslCertPath',
    file: 'sslCertPath',
    env: ['LARAVEL_ECHO_SERVER_SSL_CERT', 'ECHO_RELAY_SSL_CERT'],
    kind: 'string',
  },
  {
    path: 'server.sslKeyPath',
    file: 'sslKeyPath',
    env: ['LARAVEL_ECHO_SERVER_SSL_KEY', 'ECHO_RELAY_SSL_KEY'],
    kind: 'string',
  },
  {
    path: 'server.sslCertChainPath',
    file: 'sslCertChainPath',
    env: ['LARAVEL_ECHO_SERVER_SSL_CHAIN', 'ECHO_RELAY_SSL_CHAIN'],
    kind: 'string',
  },
  {
    path: 'server.sslPassphrase',
    file: 'sslPassphrase',
    env: ['LARAVEL_ECHO_SERVER_SSL_PASS', 'ECHO_RELAY_SSL_PASS'],
    kind: 'string',
  },
  { path: 'server.allowedOrigins', file: 'allowedOrigins', env: ['ECHO_RELAY_ALLOWED_ORIGINS'], kind: 'list' },
  { path: 'server.socketio', file: 'socketio', env: [], kind: 'json' },
  { path: 'redis.url', file: 'databaseConfig.redis.url', env: ['REDIS_URL'], kind: 'string' },
  {
    path: 'redis.host',
    file: 'databaseConfig.redis.host',
    env: ['LARAVEL_ECHO_SERVER_REDIS_HOST', 'REDIS_HOST'],
    kind: 'string',
  },
  {
    path: 'redis.port',
    file: 'databaseConfig.redis.port',
    env: ['LARAVEL_ECHO_SERVER_REDIS_PORT', 'REDIS_PORT'],
    kind: 'int',
  },
  { path: 'redis.username', file: 'databaseConfig.redis.username', env: ['REDIS_USERNAME'], kind: 'string' },
  {
    path: 'redis.password',
    file: 'databaseConfig.redis.password',
    env: ['LARAVEL_ECHO_SERVER_REDIS_PASSWORD', 'REDIS_PASSWORD'],
    kind: 'string',
  },
  { path: 'redis.db', file: 'databaseConfig.redis.db', env: ['REDIS_DB'], kind: 'int' },
  { path: 'redis.tls', file: 'databaseConfig.redis.tls', env: ['REDIS_TLS'], kind: 'bool' },
  { path: 'redis.prefix', file: 'databaseConfig.redis.keyPrefix', env: ['REDIS_PREFIX'], kind: 'string' },
  { path: 'redis.sentinels', file: 'databaseConfig.redis.sentinels', env: ['REDIS_SENTINELS'], kind: 'list' },
  { path: 'redis.sentinelName', file: 'databaseConfig.redis.name', env: ['REDIS_SENTINEL_MASTER'], kind: 'string' },
  {
    path: 'redis.sentinelPassword',
    file: 'databaseConfig.redis.sentinelPassword',
    env: ['REDIS_SENTINEL_PASSWORD'],
    kind: 'string',
  },
  { path: 'redis.clusterNodes', file: 'databaseConfig.redis.clusterNodes', env: ['REDIS_CLUSTER_NODES'], kind: 'list' },
  { path: 'broadcast.redis', file: 'subscribers.redis', env: ['ECHO_RELAY_SUBSCRIBE_REDIS'], kind: 'bool' },
  { path: 'broadcast.maxMessageBytes', file: 'maxMessageBytes', env: ['ECHO_RELAY_MAX_MESSAGE_BYTES'], kind: 'int' },
  { path: 'log.level', file: 'logLevel', env: ['ECHO_RELAY_LOG_LEVEL'], kind: 'string' },
  { path: 'log.format', file: 'logFormat', env: ['ECHO_RELAY_LOG_FORMAT'], kind: 'string' },
  { path: 'log.devMode', file: 'devMode', env: ['LARAVEL_ECHO_SERVER_DEBUG', 'ECHO_RELAY_DEV_MODE'], kind: 'bool' },
  { path: 'shutdown.timeoutMs', file: 'shutdownTimeoutMs', env: ['ECHO_RELAY_SHUTDOWN_TIMEOUT_MS'], kind: 'int' },
  { path: 'shutdown.graceMs', file: 'shutdownGraceMs', env: ['ECHO_RELAY_SHUTDOWN_GRACE_MS'], kind: 'int' },
  {
    path: 'shutdown.disconnectSpreadMs',
    file: 'shutdownDisconnectSpreadMs',
    env: ['ECHO_RELAY_SHUTDOWN_DISCONNECT_SPREAD_MS'],
    kind: 'int',
  },
];

export const CONFIG_KEYS: readonly ConfigKey[] = [
  ...CORE_CONFIG_KEYS,
  ...AUTH_CONFIG_KEYS,
  ...CHANNELS_CONFIG_KEYS,
  ...API_CONFIG_KEYS,
];

/**
 * Keys of the old file that are read by a dedicated rule rather than the table: the rest of
 * `databaseConfig.redis` becomes ioredis options; `database` and its `sqlite` block are checked
 * together (presence always lives in Redis).
 */
export const FILE_KEYS_HANDLED_ELSEWHERE: readonly string[] = [
  'databaseConfig.redis',
  'databaseConfig.sqlite',
  'database',
];

/** Where a setting can be changed, for error messages: `server.port (file "port", env PORT)`. */
export function describeKey(path: string): string {
  const key = CONFIG_KEYS.find((k) => k.path === path);
  if (!key) return path;
  const from = [key.file && `file "${key.file}"`, key.env.length > 0 && `env ${key.env.join(' or ')}`];
  return `${path} (${from.filter(Boolean).join(', ')})`;
}
