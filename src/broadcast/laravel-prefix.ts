/**
 * Laravel prefixes every Redis channel with `database.redis.options.prefix`. `LaravelDeserializer`
 * strips it once, as each message arrives; everything after that sees the channel name Echo
 * subscribes to.
 */
export function stripPrefix(channel: string, prefix: string): string {
  return prefix && channel.startsWith(prefix) ? channel.slice(prefix.length) : channel;
}

/**
 * The pattern subscribed on Redis: `<prefix>*`, the prefix's glob characters escaped. With no
 * prefix that is a bare `*`, which also matches the socket.io Redis adapter's own channels;
 * `LaravelRedisServer` ignores those.
 */
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
