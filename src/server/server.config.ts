import { isIP } from 'node:net';
import { IsIn, IsInt, IsObject, IsString, Max, Min } from '../internals/class-validator.js';
import type { ConfigKey, ConfigSlice } from '../config/config-slice.js';
import { MAX_TIMER_MS, labelIn } from '../config/key-label.js';
import { isPlainObject } from '../common/plain-object.js';
import { legacySocketioOrigins, originAllowList } from '../common/origins.js';
import { SOCKET_IO_OPTIONS } from './socket-io-options.js';

/** How the HTTP/WebSocket listener is exposed. */
export class ServerConfig {
  /** Interface to bind; empty means every interface (the old server's `host: null`). @default '' */
  @IsString() host!: string;
  /** Port for HTTP, the HTTP API and socket.io. @default 6001 */
  @IsInt() @Min(0) @Max(65535) port!: number;
  /**
   * Listen queue length: connections the kernel holds before echo-relay accepts them. Node's 511
   * overflowed when 10,000 clients reconnected at once; the kernel caps it at
   * `net.core.somaxconn`. @default 4096
   */
  @IsInt() @Min(1) @Max(65535) backlog!: number;
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
   * Origins allowed to open sockets (`scheme://host[:port]` compared as browsers send it, socket.io
   * 2's `host:port` / `*:port` / `host:*`, or `*`). Empty: the `socketio.origins` of the old file
   * when it has one, else any origin, like the old server, with a warning at startup. @default []
   */
  @IsString({ each: true }) allowedOrigins!: string[];
  /**
   * Extra socket.io server options (the old file's `socketio` block). Its socket.io 2 `origins` is
   * not passed on: it is the origin allow-list when `allowedOrigins` is empty. @default {}
   */
  @IsObject() socketio!: Record<string, unknown>;
}

const KEYS: readonly ConfigKey[] = [
  {
    path: 'server.host',
    file: 'host',
    env: ['LARAVEL_ECHO_SERVER_HOST', 'ECHO_RELAY_HOST'],
    kind: 'string',
    nullable: true,
  },
  { path: 'server.port', file: 'port', env: ['LARAVEL_ECHO_SERVER_PORT', 'PORT'], kind: 'int' },
  { path: 'server.backlog', file: 'backlog', env: ['ECHO_RELAY_BACKLOG'], kind: 'int' },
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
];

export const serverConfigSlice: ConfigSlice<ServerConfig> = {
  type: ServerConfig,
  defaults: () => ({
    host: '',
    port: 6001,
    backlog: 4096,
    protocol: 'http',
    sslCertPath: '',
    sslKeyPath: '',
    sslCertChainPath: '',
    sslPassphrase: '',
    allowedOrigins: [],
    socketio: {},
  }),
  openBlocks: [{ path: 'socketio', library: 'socket.io', knownKeys: SOCKET_IO_OPTIONS }],
  keys: KEYS,
  check(section) {
    return [
      ...hostProblems(section.host, labelIn(KEYS, 'server.host')),
      // The old file's socketio.origins keeps its startup warning: files that worked must keep starting.
      ...originAllowList(section.allowedOrigins).invalid.map(
        (entry) =>
          `${labelIn(KEYS, 'server.allowedOrigins')}: ${JSON.stringify(entry)} is neither an origin (https://app.example[:port]) nor host:port, *:port, host:* or *`,
      ),
      ...socketioProblems(section.socketio),
    ];
  },
};

type OptionRule = (value: unknown) => string | undefined;

const duration: OptionRule = (v) =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_TIMER_MS
    ? undefined
    : `expected a whole number of ms from 1 to ${MAX_TIMER_MS}`;
const bool: OptionRule = (v) => (typeof v === 'boolean' ? undefined : 'expected true or false');
const boolOrObject: OptionRule = (v) =>
  typeof v === 'boolean' || isPlainObject(v) ? undefined : 'expected true, false or an object {...}';
const TRANSPORTS = ['polling', 'websocket', 'webtransport'];

/**
 * Types and ranges of the socket.io and engine.io options the relay hands on from the `socketio`
 * block: socket.io takes anything, so `"pingTimeout": "abc"` started and every client then timed
 * out in a loop. `cors`, `allowEIO3` and `allowRequest` are the relay's own and are not checked.
 */
const SOCKETIO_RULES: Readonly<Record<string, OptionRule>> = {
  pingTimeout: duration,
  pingInterval: duration,
  upgradeTimeout: duration,
  connectTimeout: duration,
  destroyUpgradeTimeout: duration,
  maxHttpBufferSize: (v) =>
    Number.isSafeInteger(v) && (v as number) >= 1 ? undefined : 'expected a whole number of bytes, at least 1',
  transports: (v) =>
    Array.isArray(v) && v.length > 0 && v.every((t) => TRANSPORTS.includes(t as string))
      ? undefined
      : `expected a non-empty list of ${TRANSPORTS.map((t) => `"${t}"`).join(', ')}`,
  path: (v) => (typeof v === 'string' && v.startsWith('/') ? undefined : 'expected a path starting with "/"'),
  allowUpgrades: bool,
  serveClient: bool,
  destroyUpgrade: bool,
  addTrailingSlash: bool,
  cleanupEmptyChildNamespaces: bool,
  perMessageDeflate: boolOrObject,
  httpCompression: boolOrObject,
  cookie: boolOrObject,
};

function socketioProblems(socketio: Record<string, unknown>): string[] {
  return Object.entries(SOCKETIO_RULES).flatMap(([name, rule]) => {
    const value = socketio[name];
    const problem = value === undefined ? undefined : rule(value);
    return problem
      ? [`server.socketio.${name} (file "socketio.${name}"): ${problem}, got ${JSON.stringify(value)}`]
      : [];
  });
}

/**
 * An interface to bind must be an IP address or a host name; anything else failed in the listen
 * with a `getaddrinfo ENOTFOUND` stack. Empty (the old file's `"host": null`) is every interface.
 */
export function hostProblems(host: string, label: string): string[] {
  if (host === '' || isIP(host) !== 0 || isHostName(host)) return [];
  return [`${label}: ${JSON.stringify(host)} is neither an IP address nor a host name`];
}

/** RFC 1123 host names; a last label of digits alone is a mistyped IPv4 address (`999.1.1.1`). */
function isHostName(host: string): boolean {
  const labels = host.replace(/\.$/, '').split('.');
  return (
    host.length <= 253 &&
    labels.every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(label)) &&
    !/^\d+$/.test(labels[labels.length - 1])
  );
}

/** Where the socket origin allow-list comes from, and its entries (empty: any origin). */
export interface SocketOrigins {
  entries: string[];
  source: 'allowedOrigins' | 'socketio.origins' | 'none';
  /** Set when `socketio.origins` is there but is neither a string nor a list of strings. */
  unusable?: unknown;
}

/**
 * `allowedOrigins`, or else the old file's `socketio.origins` (socket.io 2's allow-list: a string of
 * space-separated entries or an array), or else nothing.
 */
export function socketOrigins(config: Pick<ServerConfig, 'allowedOrigins' | 'socketio'>): SocketOrigins {
  if (config.allowedOrigins.length > 0) return { entries: config.allowedOrigins, source: 'allowedOrigins' };
  const legacy = config.socketio.origins;
  if (legacy === undefined) return { entries: [], source: 'none' };
  const entries = legacySocketioOrigins(legacy);
  if (entries === undefined) return { entries: [], source: 'none', unusable: legacy };
  return entries.length > 0 ? { entries, source: 'socketio.origins' } : { entries: [], source: 'none' };
}
