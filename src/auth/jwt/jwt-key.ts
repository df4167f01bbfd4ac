import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { JwtConfig } from '../../config/auth.config.js';
import { ConfigError } from '../../config/load-config.js';

/** What `jwtVerify` checks signatures with, and which `alg` values it accepts. */
export interface JwtVerificationKey {
  key: Uint8Array | ReturnType<typeof createPublicKey> | JWTVerifyGetKey;
  /** Undefined: whatever the key can verify (jose never accepts `none`). */
  algorithms?: string[];
}

/**
 * Builds the verification key from exactly one of `secret`, `publicKey`, `jwksUrl`. A secret
 * only ever verifies HMAC tokens, and a public key never serves as an HMAC secret, so a token
 * cannot pick its own algorithm to get around the key.
 */
export function jwtVerificationKey(config: JwtConfig, fetchTimeoutMs: number): JwtVerificationKey {
  const configured = [config.secret && 'secret', config.publicKey && 'publicKey', config.jwksUrl && 'jwksUrl'];
  const set = configured.filter(Boolean);
  if (set.length !== 1) {
    throw new ConfigError(
      `auth.jwt: the jwt driver needs exactly one of secret, publicKey, jwksUrl (got ${set.length ? set.join(', ') : 'none'})`,
    );
  }
  const algorithms = config.algorithms.length > 0 ? config.algorithms : undefined;
  if (config.secret) return { key: new TextEncoder().encode(config.secret), algorithms: algorithms ?? ['HS256'] };
  if (config.publicKey) return { key: publicKey(config.publicKey), algorithms };
  return { key: createRemoteJWKSet(jwksUrl(config.jwksUrl), { timeoutDuration: fetchTimeoutMs }), algorithms };
}

function publicKey(value: string): ReturnType<typeof createPublicKey> {
  const pem = value.trimStart().startsWith('-----BEGIN') ? value : readPem(value);
  try {
    return createPublicKey(pem);
  } catch (err) {
    throw new ConfigError(`auth.jwt.publicKey: not a PEM public key or certificate (${(err as Error).message})`);
  }
}

function readPem(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`auth.jwt.publicKey: neither PEM text nor a readable file (${(err as Error).message})`);
  }
}

function jwksUrl(value: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new ConfigError(`auth.jwt.jwksUrl: not a URL: "${value}"`);
  }
}
