import { isPlainObject } from '../common/plain-object.js';
import { expectedShape } from './config-keys.js';
import type { ConfigKey } from './config-slice.js';
import { closestKey } from './suggest.js';

/** What one look at a config source found: problems stop startup, warnings are logged. */
export interface Findings {
  problems: string[];
  warnings: string[];
}

/**
 * Checks that a setting holds a list where its default is a list and an object where it is an
 * object, and, for lists of objects, each entry and its keys. The old server called
 * `clients.map` on whatever it found; this names the key instead. `source` says where the value
 * came from (`file "clients"`, `env ECHO_RELAY_CLIENTS`).
 */
export function checkShape(key: ConfigKey, value: unknown, source: string, found: Findings): void {
  const shape = expectedShape(key);
  if (shape === 'array' && !Array.isArray(value)) {
    // A `list` setting also takes a comma-separated string (`"authHost": "http://a"`); say so.
    const expected = key.kind === 'list' ? 'a list [...] or a comma-separated string' : 'a list [...]';
    found.problems.push(`${key.path} (${source}): expected ${expected}, got ${describeValue(value)}`);
  } else if (shape === 'object' && !isPlainObject(value)) {
    found.problems.push(`${key.path} (${source}): expected an object {...}, got ${describeValue(value)}`);
  } else if (key.entryKeys && Array.isArray(value)) {
    value.forEach((entry, i) => checkEntry(key, entry, `${source}[${i}]`, found));
  }
}

function checkEntry(key: ConfigKey, entry: unknown, source: string, found: Findings): void {
  const known = key.entryKeys ?? [];
  if (!isPlainObject(entry)) {
    found.problems.push(
      `${key.path} (${source}): expected an object with ${known.join(', ')}, got ${describeValue(entry)}`,
    );
    return;
  }
  for (const name of Object.keys(entry)) {
    if (!known.includes(name)) reportUnknown(`${key.path} (${source}): "${name}"`, name, known, found);
  }
}

/**
 * An unknown key: a near miss of a known one is almost surely a typo that would silently leave a
 * default in force, so it stops startup with the suggestion; anything else is only logged, since
 * old files carry keys of their own (see the README's "Unknown keys"). `label` names the key and
 * where it is.
 */
export function reportUnknown(
  label: string,
  name: string,
  known: Iterable<string>,
  found: Findings,
  otherwise = 'is not supported by echo-relay and is ignored',
): void {
  const suggestion = closestKey(name, known);
  if (suggestion) found.problems.push(`${label}: unknown key, did you mean "${suggestion}"?`);
  else found.warnings.push(`${label} ${otherwise}`);
}

/** A short, value-free description for messages: secrets may sit in a misplaced value. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isPlainObject(value)) return 'an object';
  if (value === null) return 'null';
  return `a ${typeof value}`;
}
