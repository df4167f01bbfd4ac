import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

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
