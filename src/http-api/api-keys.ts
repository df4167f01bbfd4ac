import { createHash, timingSafeEqual } from 'node:crypto';
import { bearerToken } from '../common/http-headers.js';
import type { ApiClientConfig } from './api.config.js';

/**
 * The configured `clients` as key digests. A key is compared with every configured key through
 * SHA-256 digests and `timingSafeEqual`, so neither its length nor its first differing byte shows
 * in the response time; the app id is checked after the key, so a key of another app is refused.
 */
export class ApiKeys {
  private readonly clients: { appId: string; digest: Buffer }[];

  constructor(clients: readonly ApiClientConfig[]) {
    this.clients = clients.map((c) => ({ appId: c.appId, digest: sha256(c.key) }));
  }

  /** True when `key` is the key of a client whose app id is `appId`. */
  allows(appId: string, key: string | undefined): boolean {
    if (!key) return false;
    const digest = sha256(key);
    let allowed = false;
    // No early exit: the time taken does not depend on which client (if any) matched.
    for (const client of this.clients) {
      const match = timingSafeEqual(digest, client.digest);
      allowed = (match && client.appId === appId) || allowed;
    }
    return allowed;
  }
}

/**
 * The key a caller sent, as the old server read it: `Authorization: Bearer <key>` first, else
 * `?auth_key=<key>`.
 */
export function keyFromRequest(authorization: string | undefined, authKeyParam: unknown): string | undefined {
  const bearer = bearerToken(authorization);
  if (bearer !== undefined) return bearer;
  return typeof authKeyParam === 'string' && authKeyParam !== '' ? authKeyParam : undefined;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
