import { IsIn, IsInt, IsObject, IsString, Max, Min } from 'class-validator';
import type { ConfigSlice } from '../config/config-slice.js';

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

export const serverConfigSlice: ConfigSlice<ServerConfig> = {
  type: ServerConfig,
  defaults: () => ({
    host: '',
    port: 6001,
    protocol: 'http',
    sslCertPath: '',
    sslKeyPath: '',
    sslCertChainPath: '',
    sslPassphrase: '',
    allowedOrigins: [],
    socketio: {},
  }),
  keys: [
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
  ],
};
