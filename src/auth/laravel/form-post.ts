import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';

/** The auth call took longer than allowed. */
export class AuthTimeout extends Error {
  override name = 'AuthTimeout';
}

/** The subscribe that wanted the answer was taken back (an unsubscribe, a disconnect). */
export class AuthAbandoned extends Error {
  override name = 'AuthAbandoned';
}

export interface FormPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Deadline for the whole exchange, connect to last byte. */
  timeoutMs: number;
  agents: { http: Agent; https: HttpsAgent };
  /** Cuts the exchange off (rejecting with `AuthAbandoned`) when aborted. */
  signal?: AbortSignal;
}

/** Bodies longer than this are not an answer from Laravel's broadcast auth. */
const MAX_BODY_BYTES = 64 * 1024;

/** POSTs a form and reads the answer; rejects with `AuthTimeout` past the deadline. Never follows redirects. */
export function postForm(post: FormPost): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(post.url);
    const https = url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    const req = send(url, {
      method: 'POST',
      headers: { ...post.headers, 'Content-Length': String(Buffer.byteLength(post.body)) },
      agent: https ? post.agents.https : post.agents.http,
    });
    const fail = (err: Error): void => {
      clearTimeout(timer);
      post.signal?.removeEventListener('abort', abandon);
      reject(err);
    };
    const abandon = (): void => {
      fail(new AuthAbandoned('the subscribe was taken back'));
      req.destroy();
    };
    // Settles first, then tears down: whatever error the teardown raises finds a settled promise.
    const timer = setTimeout(() => {
      fail(new AuthTimeout(`no answer within ${post.timeoutMs} ms`));
      req.destroy();
    }, post.timeoutMs);
    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      readBody(res).then((body) => {
        clearTimeout(timer);
        post.signal?.removeEventListener('abort', abandon);
        resolve({ status: res.statusCode ?? 0, body });
      }, fail);
    });
    post.signal?.addEventListener('abort', abandon, { once: true });
    req.end(post.body);
  });
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) res.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
      else chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('answer cut off')));
  });
}
