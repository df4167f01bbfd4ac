import { IsInt, Max, Min } from '../internals/class-validator.js';
import type { ConfigSlice } from '../config/config-slice.js';
import { MAX_TIMER_MS } from '../config/key-label.js';

/** Stopping. */
export class ShutdownConfig {
  /**
   * Hard limit for a graceful stop, after which the process exits anyway; at most 2147483647
   * (`setTimeout`'s limit; Node fires a longer timer at once). @default 10000
   */
  @IsInt() @Min(100) @Max(MAX_TIMER_MS) timeoutMs!: number;
  /**
   * After readiness fails, keep serving this long so load balancers stop sending new clients
   * (set it above the balancer's readiness probe period); at most 2147483647. @default 0
   */
  @IsInt() @Min(0) @Max(MAX_TIMER_MS) graceMs!: number;
  /** Spread the disconnection of this node's clients over this long, in jittered batches; at most 2147483647. @default 1000 */
  @IsInt() @Min(0) @Max(MAX_TIMER_MS) disconnectSpreadMs!: number;
}

export const shutdownConfigSlice: ConfigSlice<ShutdownConfig> = {
  type: ShutdownConfig,
  defaults: () => ({ timeoutMs: 10_000, graceMs: 0, disconnectSpreadMs: 1_000 }),
  keys: [
    { path: 'shutdown.timeoutMs', file: 'shutdownTimeoutMs', env: ['ECHO_RELAY_SHUTDOWN_TIMEOUT_MS'], kind: 'int' },
    { path: 'shutdown.graceMs', file: 'shutdownGraceMs', env: ['ECHO_RELAY_SHUTDOWN_GRACE_MS'], kind: 'int' },
    {
      path: 'shutdown.disconnectSpreadMs',
      file: 'shutdownDisconnectSpreadMs',
      env: ['ECHO_RELAY_SHUTDOWN_DISCONNECT_SPREAD_MS'],
      kind: 'int',
    },
  ],
};

/**
 * Why a stop could never finish gracefully with these settings, if it could not: the grace period
 * and the spread run before the clients are closed and Redis is quit, and `timeoutMs` ends the
 * process (exit 1) when it comes first, with the lease and presence members left to expire. The
 * spread is counted although a lone node closes at once: with other nodes it applies.
 */
export function shutdownWarning(shutdown: ShutdownConfig): string | undefined {
  const { timeoutMs, graceMs, disconnectSpreadMs } = shutdown;
  if (graceMs + disconnectSpreadMs < timeoutMs) return undefined;
  return (
    `shutdownGraceMs (${graceMs}) plus shutdownDisconnectSpreadMs (${disconnectSpreadMs}) leave no time within ` +
    `shutdownTimeoutMs (${timeoutMs}): every stop would be cut off and exit 1; raise shutdownTimeoutMs well above ` +
    `${graceMs + disconnectSpreadMs}`
  );
}
