import { jwtVerificationKey } from '../auth/jwt/jwt-key.js';
import { readCa } from '../auth/laravel/laravel-authorizer.js';
import type { RelayConfig } from '../config/relay-config.js';

/**
 * The settings a provider would refuse in Nest's injector, checked before Nest starts: a
 * `ConfigError` from here stops startup with nothing logged as starting. The providers keep their
 * own checks (specs build them directly); these are the same functions.
 */
export function preflight(config: RelayConfig): void {
  if (config.auth.driver === 'jwt') jwtVerificationKey(config.auth.jwt, config.auth.timeoutMs);
  if (config.auth.caFile) readCa(config.auth.caFile);
}
