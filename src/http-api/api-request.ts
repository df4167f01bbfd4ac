import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the API reads of Express's request (Express's own types are not a dependency). */
export interface ApiRequest extends IncomingMessage {
  method: string;
  path: string;
  params: Record<string, string | undefined>;
  query: Record<string, unknown>;
  body?: unknown;
  /** The JSON body as received (kept by `apiBodyParser`). */
  rawBody?: Buffer;
}

/** What the API uses of Express's response. */
export interface ApiResponse extends ServerResponse {
  status(code: number): this;
  json(body: unknown): this;
}

/** `/apps` and everything under it: the laravel-echo-server API, answered in its JSON shapes. */
export function isApiPath(path: string): boolean {
  return path === '/apps' || path.startsWith('/apps/');
}

/** `POST /apps/:appId/events`, and Pusher's `POST /apps/:appId/batch_events`. */
export function isPublishRequest(req: Pick<ApiRequest, 'method' | 'path'>): boolean {
  return req.method === 'POST' && /^\/apps\/[^/]+\/(batch_)?events\/?$/.test(req.path);
}
