import { createHash, createHmac } from 'node:crypto';
import Pusher from 'pusher';
import type { ApiAnswer } from './http-api.js';

/** One app of `api.clients` with a secret: what Laravel's `pusher`/`reverb` broadcaster is configured with. */
export interface PusherApp {
  appId: string;
  key: string;
  secret: string;
}

/** The official Pusher server SDK pointed at a relay's HTTP API (`http://host:port`), as Laravel's would be. */
export function pusherSdk(apiUrl: string, app: PusherApp): Pusher {
  const url = new URL(apiUrl);
  return new Pusher({ ...app, host: url.hostname, port: url.port, useTLS: false });
}

/** What the SDK's promise settled with: the status and the parsed body (errors included). */
export async function answerOf(
  request: Promise<{ status: number; json(): Promise<unknown> }>,
): Promise<{ status: number; body: unknown }> {
  try {
    const res = await request;
    return { status: res.status, body: await res.json() };
  } catch (err) {
    const failed = err as { status?: number; body?: string };
    if (failed.status === undefined) throw err;
    return { status: failed.status, body: parseJson(failed.body ?? '') };
  }
}

/**
 * A request signed by hand, for what the SDK will not send: an old timestamp, a `body_md5` that is
 * not the body's, a body sent as another content type (`contentType`, `null` for none; JSON by
 * default). Signs like Pusher's server libraries (keys sorted, `METHOD\nPATH\nQUERY`).
 */
export async function signedRequest(
  apiUrl: string,
  app: PusherApp,
  request: {
    method: string;
    path: string;
    body?: string;
    timestamp?: number;
    bodyMd5?: string;
    contentType?: string | null;
  },
): Promise<ApiAnswer> {
  const path = `/apps/${app.appId}${request.path}`;
  const params: Record<string, string> = {
    auth_key: app.key,
    auth_timestamp: String(request.timestamp ?? Math.floor(Date.now() / 1000)),
    auth_version: '1.0',
  };
  if (request.body !== undefined) {
    params.body_md5 = request.bodyMd5 ?? createHash('md5').update(request.body).digest('hex');
  }
  const query = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  const signature = createHmac('sha256', app.secret).update(`${request.method}\n${path}\n${query}`).digest('hex');
  const contentType = request.contentType === undefined ? 'application/json' : request.contentType;
  const headers = request.body === undefined || contentType === null ? undefined : { 'content-type': contentType };
  // fetch gives a string body `text/plain` of its own accord, bytes no content type at all.
  const body = request.body !== undefined && contentType === null ? Buffer.from(request.body) : request.body;
  const res = await fetch(`${apiUrl}${path}?${query}&auth_signature=${signature}`, {
    method: request.method,
    body,
    headers,
  });
  return { status: res.status, body: parseJson(await res.text()), headers: res.headers };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
