/**
 * Origins as browsers send them, and allow-lists that compare against them. One helper for the
 * socket handshake (`allowedOrigins`, or the old file's `socketio.origins`) and the HTTP API's CORS
 * list, so both accept the same spellings.
 */

const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', ws: '80', wss: '443' };

/**
 * `scheme://host[:port]` as browsers send it: scheme and host lower case, the scheme's default port
 * left out, no path or trailing slash. Anything that is no URL (`*`, `null`) is returned trimmed.
 */
export function normalizeOrigin(origin: string): string {
  const trimmed = origin.trim();
  try {
    const { origin: normalized } = new URL(trimmed);
    return normalized === 'null' ? trimmed : normalized;
  } catch {
    return trimmed;
  }
}

/**
 * One allow-list entry. `scheme` undefined matches http and https; `host` / `port` `*` match any.
 * `port` is always explicit here (a default port is spelled out), compared with the origin's
 * effective port.
 */
interface OriginPattern {
  scheme?: string;
  host: string;
  port: string;
}

const ENTRY = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(\*|\[[0-9a-f:.]+\]|[^\s:/[\]]+)(?::(\*|\d{1,5}))?\/?$/i;

/**
 * Parses one entry of an allow-list: a browser origin (`https://app.example`,
 * `http://app.example:8080`) or socket.io 2's syntax (`app.example:443`, `*:443`, `app.example:*`,
 * `*:*`, optionally with a scheme). Without a scheme the entry matches http and https origins whose
 * host and effective port match (`app.example:443` is `https://app.example`); without a port it
 * means the scheme's default port (both 80 and 443 when there is no scheme either). Undefined when
 * the entry is none of these.
 */
function parseEntry(entry: string): OriginPattern[] | undefined {
  const match = ENTRY.exec(entry.trim());
  if (!match) return undefined;
  const scheme = match[1]?.toLowerCase();
  const host = match[2].toLowerCase();
  const port = match[3];
  if (scheme !== undefined && !(scheme in DEFAULT_PORTS)) return undefined;
  if (port !== undefined && port !== '*' && Number(port) > 65535) return undefined;
  if (port !== undefined) return [{ scheme, host, port }];
  if (scheme !== undefined) return [{ scheme, host, port: DEFAULT_PORTS[scheme] }];
  return [
    { scheme: 'http', host, port: '80' },
    { scheme: 'https', host, port: '443' },
  ];
}

/** An allow-list of origins, compared the way browsers spell them. */
export interface OriginAllowList {
  /** True when every origin is allowed (`*`, `*:*`). */
  readonly any: boolean;
  /** The entries that are no origin and no socket.io 2 pattern: they never match. */
  readonly invalid: readonly string[];
  allows(origin: string): boolean;
}

/**
 * An allow-list from entries as configured (see `parseEntry`): `*` or `*:*` allows any origin. An
 * empty list allows nothing; whether an empty list means "any" is the caller's decision.
 */
export function originAllowList(entries: readonly string[]): OriginAllowList {
  const patterns: OriginPattern[] = [];
  const invalid: string[] = [];
  let any = false;
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (entry === '*' || entry === '*:*') {
      any = true;
      continue;
    }
    const parsed = parseEntry(entry);
    if (parsed) patterns.push(...parsed);
    else invalid.push(entry);
  }
  return {
    any,
    invalid,
    allows(origin: string): boolean {
      if (any) return true;
      const parsed = parseOrigin(origin);
      if (!parsed) return false;
      return patterns.some(
        (p) =>
          (p.scheme === undefined
            ? parsed.scheme === 'http' || parsed.scheme === 'https'
            : p.scheme === parsed.scheme) &&
          (p.host === '*' || p.host === parsed.host) &&
          (p.port === '*' || p.port === parsed.port),
      );
    },
  };
}

/** Scheme, host and effective port of an `Origin` header, or undefined for `null` and garbage. */
function parseOrigin(origin: string): { scheme: string; host: string; port: string } | undefined {
  try {
    const url = new URL(origin.trim());
    const scheme = url.protocol.slice(0, -1);
    if (!(scheme in DEFAULT_PORTS) || url.hostname === '') return undefined;
    return { scheme, host: url.hostname.toLowerCase(), port: url.port || DEFAULT_PORTS[scheme] };
  } catch {
    return undefined;
  }
}

/**
 * The entries of socket.io 2's `origins` option: a string of space- (or comma-) separated entries,
 * or an array of them. Undefined when the value is neither.
 */
export function legacySocketioOrigins(value: unknown): string[] | undefined {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter((entry) => entry !== '');
  if (Array.isArray(value) && value.every((entry) => typeof entry === 'string')) {
    return value.flatMap((entry: string) => entry.split(/[\s,]+/)).filter((entry) => entry !== '');
  }
  return undefined;
}

/**
 * Whether a browser's `Origin` names the very host and port the request was sent to (its `Host`
 * header): a page this server served itself, such as the Admin UI. Another site cannot send such a
 * request from a browser, whose `Origin` is always the page's own.
 */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  const parsed = parseOrigin(origin);
  // A Host header is a host and a port, nothing else (no user info or path to confuse URL parsing).
  if (!parsed || !host || !/^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i.test(host.trim())) return false;
  try {
    const target = new URL(`${parsed.scheme}://${host.trim()}`);
    return (
      target.hostname.toLowerCase() === parsed.host && (target.port || DEFAULT_PORTS[parsed.scheme]) === parsed.port
    );
  } catch {
    return false;
  }
}
