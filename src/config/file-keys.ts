import { isPlainObject, type PlainObject } from '../common/plain-object.js';
import { CONFIG_KEYS, FILE_KEYS_HANDLED_ELSEWHERE, OPEN_BLOCKS } from './config-keys.js';
import { describeValue, reportUnknown, type Findings } from './config-shapes.js';
import type { OpenBlock } from './config-slice.js';

/** What a path of laravel-echo-server.json is to echo-relay. */
type Known = { kind: 'setting' } | { kind: 'elsewhere' } | { kind: 'open'; block: OpenBlock } | { kind: 'branch' };

let known: Map<string, Known> | undefined;

/** Every path of the old file echo-relay reads, and the objects on the way to them. */
function knownPaths(): Map<string, Known> {
  if (known) return known;
  const out = new Map<string, Known>();
  const add = (path: string, entry: Known): void => {
    out.set(path, entry);
    const parts = path.split('.');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('.');
      if (!out.has(prefix)) out.set(prefix, { kind: 'branch' });
    }
  };
  for (const key of CONFIG_KEYS) if (key.file) add(key.file, { kind: 'setting' });
  for (const path of FILE_KEYS_HANDLED_ELSEWHERE) add(path, { kind: 'elsewhere' });
  for (const block of OPEN_BLOCKS) out.set(block.path, { kind: 'open', block });
  return (known = out);
}

/** Names known directly under `base` (`''` for the top level). */
function knownChildren(base: string): string[] {
  const depth = base ? base.split('.').length + 1 : 1;
  return [...knownPaths().keys()]
    .filter((path) => path.split('.').length === depth && (!base || path.startsWith(`${base}.`)))
    .map((path) => path.split('.').pop() ?? path);
}

/**
 * Walks the old file: objects where the file nests settings (`databaseConfig`, `subscribers`…),
 * unknown keys at every level, with a suggestion for near misses (see `reportUnknown`). Values
 * of settings are checked once read (`checkShape`); blocks handed to a library are checked
 * against its options.
 */
export function checkFileKeys(
  node: PlainObject,
  base = '',
  found: Findings = { problems: [], warnings: [] },
): Findings {
  const paths = knownPaths();
  const open = paths.get(base);
  const names = knownChildren(base).concat(open?.kind === 'open' ? open.block.knownKeys : []);
  for (const [name, value] of Object.entries(node)) {
    const path = base ? `${base}.${name}` : name;
    const entry = paths.get(path);
    if (entry?.kind === 'setting' || entry?.kind === 'elsewhere') continue;
    if (entry?.kind === 'branch' || entry?.kind === 'open') {
      if (isPlainObject(value)) checkFileKeys(value, path, found);
      else if (value !== null)
        found.problems.push(`"${path}" in the config file: expected an object {...}, got ${describeValue(value)}`);
      continue;
    }
    if (open?.kind === 'open' && open.block.knownKeys.includes(name)) continue;
    const otherwise =
      open?.kind === 'open' ? `is not an option ${open.block.library} knows; passed to it unchanged` : undefined;
    reportUnknown(`"${path}" in the config file`, name, names, found, otherwise);
  }
  return found;
}
