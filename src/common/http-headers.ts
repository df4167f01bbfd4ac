import { isPlainObject } from './plain-object.js';

/** `Bearer abc` → `abc` (scheme case-insensitive, one token, trailing spaces allowed); anything else → undefined. */
export function bearerToken(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(value)?.[1];
}

/**
 * The `headers` of an Echo `auth` object (`{headers: {...}}`, as a subscribe or a v4 CONNECT
 * payload carries it), keeping string and number values as strings and dropping anything else.
 */
export function stringHeaders(auth: unknown): Record<string, string> {
  const headers = isPlainObject(auth) ? auth.headers : undefined;
  if (!isPlainObject(headers)) return {};
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string' || typeof value === 'number') out[name] = String(value);
  }
  return out;
}

/** Bytes of the names and values of `headers` (UTF-8), what they cost once forwarded. */
export function headerBytes(headers: Record<string, string>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes;
}
