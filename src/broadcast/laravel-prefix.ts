/**
 * Laravel prefixes every Redis channel with `database.redis.options.prefix`. The prefix is
 * stripped once, here, on ingest; everything after this sees the channel name Echo subscribes to.
 */
export function stripPrefix(channel: string, prefix: string): string {
  return prefix && channel.startsWith(prefix) ? channel.slice(prefix.length) : channel;
}

/** The pattern subscribed on Redis: never a bare `*`, which would also catch socket.io's own traffic. */
export function subscriptionPattern(prefix: string): string {
  return `${escapeGlob(prefix)}*`;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * Channel names that look like they still carry Laravel's prefix (`laravel_database_orders`,
 * `my-app-database-orders`): the most reported misconfiguration of the old server.
 */
export function looksPrefixed(channel: string): boolean {
  return /^[a-z0-9]+(?:[_-][a-z0-9]+)*?[_-]database[_-]/i.test(channel);
}
