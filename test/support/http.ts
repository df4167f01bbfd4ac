import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * Status code of a GET, over HTTP or HTTPS; test certificates are self-signed, so HTTPS here
 * skips verification (the HTTPS spec checks the served certificate itself).
 */
export function httpStatus(url: string, timeoutMs = 5000): Promise<number> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    // A server that accepts but never answers must not hold a polling wait past its deadline.
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Sends `head` (request line and headers, without the blank line) and `body` over a raw TCP (or
 * TLS) connection; resolves with the first response once it is complete (its headers, and a body
 * by its Content-Length or chunked end), or with every byte the server wrote before it closed the
 * connection: '' when it closed without answering. With `untilClose`, waits for that close in any
 * case. `body` may be several parts, written one after another.
 */
export function rawExchange(
  port: number,
  head: string[],
  options: { body?: string | string[]; tls?: boolean; untilClose?: boolean; timeoutMs?: number } = {},
): Promise<string> {
  const { body = '', tls = false, untilClose = false, timeoutMs = 5000 } = options;
  return new Promise((resolve, reject) => {
    const onConnect = (): void => {
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      for (const part of typeof body === 'string' ? [body] : body) socket.write(part);
    };
    const socket = tls
      ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, onConnect)
      : netConnect({ port, host: '127.0.0.1' }, onConnect);
    let received = '';
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(received);
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (!untilClose && completeResponse(received)) finish();
    });
    // A reset after the answer (unread bytes) still leaves what was received.
    socket.on('error', () => undefined);
    socket.on('close', finish);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms; received ${JSON.stringify(received)}`));
    }, timeoutMs);
  });
}

/** Whether `text` holds a whole HTTP/1.1 response (a 1xx one ends with its headers). */
function completeResponse(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const headers = text.slice(0, end).toLowerCase();
  const rest = text.slice(end + 4);
  if (/^http\/1\.1 1\d\d/.test(headers)) return true;
  if (/\r\ntransfer-encoding: *chunked/.test(headers)) return /(^|\r\n)0\r\n\r\n$/.test(rest);
  const length = /\r\ncontent-length: *(\d+)/.exec(headers);
  return length !== null && Buffer.byteLength(rest, 'latin1') >= Number(length[1]);
}
