import type { RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/relay-config.js';

/**
 * ioredis options for every connection echo-relay opens. A URL wins over host/port/password/db;
 * `rediss://` or `tls: true` turns TLS on (with certificate verification).
 */
export function redisOptions(config: RedisConfig, role = 'subscriber'): RedisOptions {
  const base: RedisOptions = {
    // Named connections make `CLIENT LIST` on a shared Redis readable for operators.
    connectionName: `echo-relay:${role}`,
    host: config.host,
    port: config.port,
    username: config.username || undefined,
    password: config.password || undefined,
    db: config.db,
    ...(config.tls ? { tls: {} } : {}),
  };
  if (config.url) Object.assign(base, fromUrl(config.url));
  return { ...base, ...(config.options as RedisOptions) };
}

function fromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '');
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    username: decodeURIComponent(parsed.username) || undefined,
    password: decodeURIComponent(parsed.password) || undefined,
    db: db ? Number(db) : 0,
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** Delay before reconnect attempt `times`: exponential from 100 ms, capped at 5 s, with jitter. */
export function reconnectDelay(times: number): number {
  const capped = Math.min(100 * 2 ** Math.min(times, 10), 5_000);
  return Math.round(capped / 2 + (Math.random() * capped) / 2);
}
