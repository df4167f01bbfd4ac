import { isPlainObject, type PlainObject } from '../common/plain-object.js';

/**
 * Merges layers left to right: objects merge key by key at every depth, anything else (arrays
 * included) replaces. The old server merged one level deep, so `"subscribers": {"http": true}`
 * silently turned Redis off; here an absent key keeps the value below it.
 */
export function deepMerge(...layers: PlainObject[]): PlainObject {
  const out: PlainObject = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined || key === '__proto__' || key === 'constructor') continue;
      const current = out[key];
      out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
    }
  }
  return out;
}

/** Reads `a.b.c` from a nested object. */
export function getPath(source: PlainObject, path: string): unknown {
  let node: unknown = source;
  for (const part of path.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

/** Writes `a.b.c` into a nested object, creating the objects on the way. */
export function setPath(target: PlainObject, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as PlainObject;
  }
  node[parts[parts.length - 1]] = value;
}
