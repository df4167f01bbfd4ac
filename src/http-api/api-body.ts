import express from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiRequest } from './api-request.js';
import { ECHO_API, apiVersionOf } from './api-versions.js';

type Next = (err?: unknown) => void;

/**
 * Express's JSON body parser (gzip, deflate and brotli bodies, each limited once decompressed;
 * 415 for other encodings; the raw body kept in `req.rawBody`), with bodies over `limit` bytes as
 * sent refused at once. The parser alone answers only once the client has sent everything: it reads
 * and discards the rest of a body it refused, so anyone could hold a connection, before any
 * authentication, for as long as they keep sending. Here a declared `Content-Length` over the limit
 * is refused before any of the body is read, a chunked body as soon as it passes the limit; the
 * refusal (`entity.too.large`, answered 413 by `ApiErrorFilter`) carries `Connection: close`, so
 * Node closes the connection once it is written, without reading the rest.
 */
export function apiBodyParser(limit: number): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const parse = express.json({ limit, verify: keepRawBody, type: readsAsJson });
  return (req, res, next) => {
    let settled = false;
    const done = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      next(err);
    };
    const refuse = (length?: number): void => {
      res.setHeader('Connection', 'close');
      done(tooLarge(limit, length));
    };
    const declared = declaredLength(req);
    if (declared !== undefined && declared > limit) return refuse(declared);
    parse(req, res, done);
    // Not read at all (no body, not JSON, refused before reading): nothing to count.
    if (settled || req.listenerCount('data') === 0) return;
    let received = 0;
    const count = (chunk: Buffer): void => {
      received += chunk.length;
      if (received <= limit) return;
      req.off('data', count);
      refuse();
    };
    // After the parser's own listener, so that it still sees every byte.
    req.on('data', count);
  };
}

/**
 * Whether the request came with a body that `apiBodyParser` left unread: one not sent as JSON
 * (`text/plain`, a form, no content type), which is neither parsed into `req.body` nor kept in
 * `req.rawBody`. Its bytes were never seen, so nothing can be checked against them (`body_md5`).
 */
export function hasUnreadBody(req: ApiRequest): boolean {
  if (req.body !== undefined || req.rawBody !== undefined) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
}

const JSON_TYPE = /^application\/json$/i;
const OLD_API_EVENTS = /^\/apps\/[^/?]+\/events\/?(\?|$)/;

/**
 * Which bodies are parsed as JSON: those sent as JSON, and every body of the old API's
 * `POST /apps/:appId/events`, which laravel-echo-server parsed whatever its Content-Type said
 * (`curl -d '{…}'` sends a form type). Pusher's API, on the same path with a signature, keeps
 * JSON only, as Pusher's libraries send it (see `hasUnreadBody`).
 */
function readsAsJson(req: IncomingMessage): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
  if (JSON_TYPE.test(type)) return true;
  return req.method === 'POST' && OLD_API_EVENTS.test(req.url ?? '') && apiVersionOf(req) === ECHO_API;
}

/** What Nest's `rawBody: true` keeps: a Pusher API signature covers the body's MD5. */
function keepRawBody(req: IncomingMessage, _res: ServerResponse, body: Buffer): void {
  if (Buffer.isBuffer(body)) (req as ApiRequest).rawBody = body;
}

function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  // With both, Transfer-Encoding wins (Node refuses such requests anyway).
  if (header === undefined || req.headers['transfer-encoding'] !== undefined) return undefined;
  const length = Number(header);
  return Number.isSafeInteger(length) ? length : undefined;
}

/** The error the parser itself gives a body over its limit, so it is answered and counted alike. */
function tooLarge(limit: number, length?: number): Error {
  return Object.assign(new Error('request entity too large'), {
    status: 413,
    statusCode: 413,
    expose: true,
    type: 'entity.too.large',
    limit,
    length,
    expected: length,
  });
}
