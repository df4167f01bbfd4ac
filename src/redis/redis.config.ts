import { IsArray, IsBoolean, IsInt, IsObject, IsString, Max, Min } from '../internals/class-validator.js';
import { isPlainObject } from '../common/plain-object.js';
import type { ConfigKey, ConfigSlice } from '../config/config-slice.js';
import { getPath, setPath } from '../config/deep-merge.js';
import { IOREDIS_OPTIONS } from './ioredis-options.js';

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

const LEGACY_BLOCK = 'databaseConfig.redis';

const keys: readonly ConfigKey[] = [
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
];

/** Keys of the old `databaseConfig.redis` block that map onto `RedisConfig` fields. */
const MAPPED_LEGACY_KEYS = new Set(
  keys.flatMap((k) => (k.file?.startsWith(`${LEGACY_BLOCK}.`) ? [k.file.slice(LEGACY_BLOCK.length + 1)] : [])),
);

export const redisConfigSlice: ConfigSlice<RedisConfig> = {
  type: RedisConfig,
  defaults: () => ({
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
  }),
  keys,
  openBlocks: [{ path: LEGACY_BLOCK, library: 'ioredis', knownKeys: IOREDIS_OPTIONS }],
  /** The rest of the old `databaseConfig.redis` block was handed to ioredis as is: so is it here. */
  fromLegacyFile(file, layer) {
    const block = getPath(file, LEGACY_BLOCK);
    if (!isPlainObject(block)) return;
    const rest = Object.fromEntries(Object.entries(block).filter(([k]) => !MAPPED_LEGACY_KEYS.has(k)));
    if (Object.keys(rest).length > 0) setPath(layer, 'redis.options', rest);
  },
};
