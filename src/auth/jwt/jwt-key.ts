import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { JwtConfig } from '../auth.config.js';
import { ConfigError } from '../../config/load-config.js';

/** What `jwtVerify` checks signatures with, and which `alg` values it accepts. */
export interface JwtVerificationKey {
  key: Uint8Array | KeyObject | JWTVerifyGetKey;
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
  if (config.publicKey) {
    const key = publicKey(config.publicKey);
    return { key, algorithms: algorithms ?? algorithmsFor(key) };
  }
  return { key: createRemoteJWKSet(jwksUrl(config.jwksUrl), { timeoutDuration: fetchTimeoutMs }), algorithms };
}

/** The signature algorithms a public key of this type can verify: a token naming another is refused up front. */
function algorithmsFor(key: KeyObject): string[] | undefined {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec':
      return ['ES256', 'ES384', 'ES512'];
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return undefined;
  }
}

function publicKey(value: string): KeyObject {
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
