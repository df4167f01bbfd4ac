/**
 * A laravel-echo-server.json as `laravel-echo-server init` (1.6.3) writes it, for a Redis at
 * `redis` (its `databaseConfig.redis`) and a server on 127.0.0.1:`port`; `extra` replaces top-level
 * keys. What an existing deployment hands echo-relay unchanged.
 */
export function initFile(
  redis: Record<string, unknown>,
  port: number | string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    authHost: 'http://localhost',
    authEndpoint: '/broadcasting/auth',
    clients: [],
    database: 'redis',
    databaseConfig: { redis, sqlite: { databasePath: '/database/laravel-echo-server.sqlite' } },
    devMode: false,
    host: '127.0.0.1',
    port: String(port),
    protocol: 'http',
    socketio: {},
    secureOptions: 67108864,
    sslCertPath: '',
    sslKeyPath: '',
    sslCertChainPath: '',
    sslPassphrase: '',
    subscribers: { http: true, redis: true },
    apiOriginAllow: { allowCors: false, allowOrigin: '', allowMethods: '', allowHeaders: '' },
    ...extra,
  };
}
