import type { ConfigKey } from './config-slice.js';

/**
 * Longest delay `setTimeout` honours: Node turns a longer one into 1 ms (with a warning), so a
 * millisecond setting above it would fire at once instead of never.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Where a setting can be changed, for error messages: `server.port (file "port", env PORT)`. Needs
 * only the key's row, so a slice can name its own keys (`describeKey` would be an import cycle).
 */
export function keyLabel(key: Pick<ConfigKey, 'path' | 'file' | 'env'>, path = key.path): string {
  const from = [key.file && `file "${key.file}"`, key.env.length > 0 && `env ${key.env.join(' or ')}`];
  return `${path} (${from.filter(Boolean).join(', ')})`;
}

/** `keyLabel` of the row of `path` among a slice's `keys`. */
export function labelIn(keys: readonly ConfigKey[], path: string): string {
  const key = keys.find((k) => k.path === path);
  return key ? keyLabel(key) : path;
}
