import type { ConfigKey } from './config-slice.js';
import { configSlices } from './relay-config.js';

/** Every setting's row, from every slice: the loader, error messages and the README table follow it. */
export const CONFIG_KEYS: readonly ConfigKey[] = configSlices().flatMap(([, slice]) => slice.keys);

/** Keys of the old file that a slice reads by its own rule (`fromLegacyFile`) rather than the table. */
export const FILE_KEYS_HANDLED_ELSEWHERE: readonly string[] = configSlices().flatMap(
  ([, slice]) => slice.legacyFileKeys ?? [],
);

/** Where a setting can be changed, for error messages: `server.port (file "port", env PORT)`. */
export function describeKey(path: string): string {
  const key = CONFIG_KEYS.find((k) => k.path === path);
  if (!key) return path;
  const from = [key.file && `file "${key.file}"`, key.env.length > 0 && `env ${key.env.join(' or ')}`];
  return `${path} (${from.filter(Boolean).join(', ')})`;
}
