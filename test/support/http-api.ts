/** A caller of the HTTP API (a Laravel app, a dashboard) and a Prometheus scraper, for e2e specs. */

export interface ApiAnswer {
  status: number;
  body: unknown;
  headers: Headers;
}

export type KeyStyle = 'query' | 'bearer';

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly appId: string,
    readonly key: string,
  ) {}

  /** `GET /apps/<appId><path>` with the key sent as `style`, or `key: null` for none. */
  get(path: string, options: { style?: KeyStyle; key?: string | null; appId?: string } = {}): Promise<ApiAnswer> {
    return this.request('GET', path, undefined, options);
  }

  /** `POST /apps/<appId>/events`; a string body is sent as it is. */
  publish(
    body: unknown,
    options: { style?: KeyStyle; key?: string | null; contentType?: string } = {},
  ): Promise<ApiAnswer> {
    return this.request('POST', '/events', typeof body === 'string' ? body : JSON.stringify(body), options);
  }

  async request(
    method: string,
    path: string,
    body: string | undefined,
    options: {
      style?: KeyStyle;
      key?: string | null;
      appId?: string;
      contentType?: string;
      headers?: Record<string, string>;
    },
  ): Promise<ApiAnswer> {
    const key = options.key === undefined ? this.key : options.key;
    const url = new URL(`${this.baseUrl}/apps/${options.appId ?? this.appId}${path}`);
    const headers = new Headers(options.headers);
    if (body !== undefined) headers.set('content-type', options.contentType ?? 'application/json');
    if (key !== null && options.style === 'bearer') headers.set('authorization', `Bearer ${key}`);
    else if (key !== null) url.searchParams.set('auth_key', key);
    const res = await fetch(url, { method, body, headers });
    const text = await res.text();
    return { status: res.status, body: parseJson(text), headers: res.headers };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** One Prometheus scrape: `name{labels}` (labels as written by prom-client) → value. */
export type Scrape = Map<string, number>;

export async function scrape(baseUrl: string): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  return parseScrape(await res.text());
}

export function parseScrape(text: string): Scrape {
  const samples: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const split = line.lastIndexOf(' ');
    samples.set(line.slice(0, split), Number(line.slice(split + 1)));
  }
  return samples;
}

/** A sample's value, 0 when absent (a counter not yet incremented). */
export function sample(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const rendered = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return scrape.get(rendered ? `${name}{${rendered}}` : name) ?? 0;
}

/** How much a sample moved between two scrapes. */
export function delta(before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): number {
  return sample(after, name, labels) - sample(before, name, labels);
}
