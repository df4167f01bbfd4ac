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
