import { ServiceUnavailableException } from '@nestjs/common';

/**
 * The answers @nestjs/terminus 12 gave /health and /ready, without loading it (about 40 modules
 * and its providers at boot for three `up`/`down` calls; see bench/performance-work.md): the same
 * JSON, key order included, the same 503 when a check is down or the app is closing, and the same
 * `Cache-Control` header (`HEALTH_CACHE_CONTROL`). The e2e specs hold the answers.
 */
export const HEALTH_CACHE_CONTROL = 'no-cache, no-store, must-revalidate';

export type HealthStatus = 'up' | 'down';
export type HealthDetail = Record<string, unknown> & { status: HealthStatus };
export interface HealthCheckResult {
  status: 'ok' | 'error' | 'shutting_down';
  info: Record<string, HealthDetail>;
  error: Record<string, HealthDetail>;
  details: Record<string, HealthDetail>;
}

/** One named check's answer, as terminus's `indicators.check(key).up(data)` / `.down(data)` built it. */
export const up = (key: string, data: Record<string, unknown> = {}): Record<string, HealthDetail> => ({
  [key]: { ...data, status: 'up' },
});
export const down = (key: string, data: Record<string, unknown> = {}): Record<string, HealthDetail> => ({
  [key]: { ...data, status: 'down' },
});

/**
 * The checks' summary (terminus's HealthCheckExecutor): `info` the ones up, `error` the ones down,
 * `details` both, in that order. Returned when all are up; otherwise thrown as a 503 whose body is
 * the summary, as while `shuttingDown` (Nest's `beforeApplicationShutdown` has run).
 */
export function healthCheck(checks: Record<string, HealthDetail>[], shuttingDown: boolean): HealthCheckResult {
  const info: Record<string, HealthDetail> = {};
  const error: Record<string, HealthDetail> = {};
  for (const check of checks) {
    for (const [key, detail] of Object.entries(check)) {
      if (detail.status === 'up') info[key] = detail;
      else error[key] = detail;
    }
  }
  const details = { ...info, ...error };
  const failed = Object.keys(error).length > 0;
  const result: HealthCheckResult = {
    status: shuttingDown ? 'shutting_down' : failed ? 'error' : 'ok',
    info,
    error,
    details,
  };
  if (result.status !== 'ok') throw new ServiceUnavailableException(result);
  return result;
}
