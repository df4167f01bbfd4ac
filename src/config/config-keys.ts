import type { ConfigKey, OpenBlock } from './config-slice.js';
import { configSlices, defaultConfig } from './relay-config.js';
import { getPath } from './deep-merge.js';
import { isPlainObject } from '../common/plain-object.js';
import { keyLabel } from './key-label.js';

/** Every setting's row, from every slice: the loader, error messages and the README table follow it. */
export const CONFIG_KEYS: readonly ConfigKey[] = configSlices().flatMap(([, slice]) => slice.keys);

/** Keys of the old file that a slice reads by its own rule (`fromLegacyFile`) rather than the table. */
export const FILE_KEYS_HANDLED_ELSEWHERE: readonly string[] = configSlices().flatMap(
  ([, slice]) => slice.legacyFileKeys ?? [],
);

/** Blocks of the old file handed to a library (`databaseConfig.redis`). */
export const OPEN_BLOCKS: readonly OpenBlock[] = configSlices().flatMap(([, slice]) => slice.openBlocks ?? []);

/** Where a setting can be changed, for error messages: `server.port (file "port", env PORT)`. */
export function describeKey(path: string): string {
  const key = CONFIG_KEYS.find((k) => k.path === path) ?? CONFIG_KEYS.find((k) => path.startsWith(`${k.path}.`));
  return key ? keyLabel(key, path) : path;
}

/** What a setting must hold, read off its default: a list, an object, or (`undefined`) a scalar. */
export function expectedShape(key: ConfigKey): 'array' | 'object' | undefined {
  const value = getPath(defaultConfig(), key.path);
  if (Array.isArray(value)) return 'array';
  return isPlainObject(value) ? 'object' : undefined;
}
