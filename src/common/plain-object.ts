/** A JSON object as `JSON.parse` returns it: any non-null, non-array object. */
export type PlainObject = Record<string, unknown>;

/** Whether a value parsed from JSON (or sent by a client) is an object whose keys can be read. */
export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
