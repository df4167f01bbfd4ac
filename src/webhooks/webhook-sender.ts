import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { WebhookTarget } from './webhook-targets.js';

/** What one delivery attempt came to: ok on a 2xx answer, else why it failed. */
export type SendResult = { ok: true } | { ok: false; reason: string };

/** `X-Pusher-Signature`: hex HMAC-SHA256 of exactly the bytes sent, keyed with the app's secret. */
export function sign(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

/**
 * POSTs one body to a receiver, signed as Pusher signs its webhooks. Never throws: a refused
 * connection, a timeout and a non-2xx answer are all failures to retry. No connection is kept
 * open between batches (`agent: false`): they are rare next to the timeout that would hold it.
 */
export function send(target: WebhookTarget, body: string, timeoutMs: number): Promise<SendResult> {
  const url = new URL(target.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request(url, {
      method: 'POST',
      agent: false,
      timeout: timeoutMs,
      headers: {
        ...target.headers,
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        'X-Pusher-Key': target.key,
        'X-Pusher-Signature': sign(body, target.secret),
      },
    });
    req.on('response', (res) => {
      // Drained, not read: only the status matters, and an unread body would hold the socket.
      res.resume();
      const status = res.statusCode ?? 0;
      res.on('end', () =>
        resolve(status >= 200 && status < 300 ? { ok: true } : { ok: false, reason: `HTTP ${status}` }),
      );
      res.on('error', (err) => resolve({ ok: false, reason: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, reason: err.message }));
    req.end(body);
  });
}
