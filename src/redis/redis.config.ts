import { IsArray, IsBoolean, IsInt, IsObject, IsString, Max, Min } from '../internals/class-validator.js';
import { isPlainObject } from '../common/plain-object.js';
import type { ConfigKey, ConfigSlice } from '../config/config-slice.js';
import { getPath, setPath } from '../config/deep-merge.js';
import { MAX_TIMER_MS, labelIn } from '../config/key-label.js';
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
  /**
   * What ioredis would only trip over once started: a URL it cannot parse (a `TypeError` stack)
   * or whose db is not a number (`SELECT NaN` after "serving"), addresses it would retry forever,
   * and timing options Node refuses in `setTimeout` or `setKeepAlive` (a `RangeError` after start).
   */
  check(section) {
    return [
      ...urlProblems(section.url),
      ...section.sentinels.flatMap((entry, i) => addressProblems('redis.sentinels', entry, i, true)),
      ...section.clusterNodes.flatMap((entry, i) => addressProblems('redis.clusterNodes', entry, i, false)),
      ...optionProblems(section.options),
    ];
  },
  openBlocks: [{ path: LEGACY_BLOCK, library: 'ioredis', knownKeys: IOREDIS_OPTIONS }],
  /**
   * The rest of the old `databaseConfig.redis` block was handed to ioredis as is: so is it here.
   * Its `tls` was ioredis's too, Node's TLS options (`{}`, `{"rejectUnauthorized": false}`, a `ca`,
   * a `servername`): an object turns TLS on and is passed on as it was.
   */
  fromLegacyFile(file, layer) {
    const block = getPath(file, LEGACY_BLOCK);
    if (!isPlainObject(block)) return;
    const rest = Object.fromEntries(Object.entries(block).filter(([k]) => !MAPPED_LEGACY_KEYS.has(k)));
    if (isPlainObject(block.tls)) {
      setPath(layer, 'redis.tls', true);
      rest.tls = block.tls;
    }
    if (Object.keys(rest).length > 0) setPath(layer, 'redis.options', rest);
  },
};

function urlProblems(url: string): string[] {
  if (!url) return [];
  const problem = (what: string): string[] => [`${labelIn(keys, 'redis.url')}: ${what}`];
  // The URL is never quoted back: it may carry the password.
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return problem('not a URL; expected redis://[user:password@]host[:port][/db] or rediss://…');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    return problem(`the scheme must be redis:// or rediss://, not ${parsed.protocol}//`);
  }
  if (!parsed.hostname) return problem('names no host; expected redis://host[:port][/db]');
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) return problem('the path must be a database number (redis://host:6379/0)');
  return [];
}

/**
 * A sentinel (`host:port`, or `{host, port}` from the file) or a Cluster seed node (`host[:port]`,
 * 6379 by default). Sentinels listen on 26379, not 6379: their port is required.
 */
function addressProblems(path: string, entry: unknown, i: number, portRequired: boolean): string[] {
  const where = `${labelIn(keys, path)}[${i}]`;
  const form = portRequired ? 'host:port' : 'host[:port]';
  if (typeof entry === 'string') {
    const at = entry.lastIndexOf(':');
    const host = at >= 0 ? entry.slice(0, at) : entry;
    const port = at >= 0 ? entry.slice(at + 1) : undefined;
    if (host.trim() === '' || (port === undefined && portRequired) || (port !== undefined && !isPort(port))) {
      return [`${where}: expected ${form} with a port from 1 to 65535, got ${JSON.stringify(entry)}`];
    }
    return [];
  }
  if (portRequired && isPlainObject(entry)) {
    const { host, port } = entry;
    if (typeof host === 'string' && host.trim() !== '' && isPort(port)) return [];
    return [`${where}: expected {"host": "…", "port": 1-65535}, got ${JSON.stringify(entry)}`];
  }
  return [`${where}: expected a ${form} string${portRequired ? ' or {host, port}' : ''}`];
}

function isPort(value: unknown): boolean {
  const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535;
}

/**
 * ioredis options that hold milliseconds or counts: Node throws `ERR_OUT_OF_RANGE` from a timer or
 * `setKeepAlive` for a negative or fractional one once the connection is made. `null` is ioredis's
 * own "no limit" for `maxRetriesPerRequest`.
 */
const NUMERIC_OPTIONS: Readonly<Record<string, { nullable?: true }>> = {
  connectTimeout: {},
  disconnectTimeout: {},
  commandTimeout: {},
  socketTimeout: {},
  blockingTimeout: {},
  blockingTimeoutGrace: {},
  keepAlive: {},
  maxLoadingRetryTime: {},
  sentinelCommandTimeout: {},
  sentinelMaxConnections: {},
  maxRetriesPerRequest: { nullable: true },
};

function optionProblems(options: Record<string, unknown>): string[] {
  return Object.entries(NUMERIC_OPTIONS).flatMap(([name, rule]) => {
    const value = options[name];
    if (value === undefined || (value === null && rule.nullable)) return [];
    if (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_TIMER_MS) return [];
    return [
      `"${LEGACY_BLOCK}.${name}" in the config file: expected a whole number from 0 to ${MAX_TIMER_MS}${
        rule.nullable ? ' or null' : ''
      }, got ${JSON.stringify(value)}`,
    ];
  });
}
