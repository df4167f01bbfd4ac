import { IsBoolean, IsInt, Max, Min } from '../internals/class-validator.js';
import type { ConfigSlice } from '../config/config-slice.js';

/**
 * Connection-state recovery: socket.io-client ≥ 4.6 clients that reconnect within `windowMs` get
 * back their socket id and channels and every broadcast they missed (see README "Missed events").
 */
export class RecoveryConfig {
  /** Offsets on broadcasts, history and sessions in Redis. Off: nothing of it is sent or written. @default true */
  @IsBoolean() enabled!: boolean;
  /** How long after a disconnect a client can still recover its session. @default 120000 */
  @IsInt() @Min(1_000) @Max(86_400_000) windowMs!: number;
  /** Broadcasts kept in the history, all channels together (Redis trims in blocks, so a little more). @default 10000 */
  @IsInt() @Min(100) @Max(10_000_000) maxHistory!: number;
  /**
   * Lease of the node that orders Laravel's broadcasts; when that node dies, another takes over
   * after at most this long, and broadcasts published meanwhile are delivered then. @default 3000
   */
  @IsInt() @Min(300) @Max(60_000) leaseMs!: number;
  /**
   * While Laravel's broadcasts keep coming, the sequencer appends at most once per this many ms,
   * all that arrived meanwhile in one script call (one Redis write, one notification to every
   * node). The first broadcast after a quiet spell is appended at once. 0: as soon as the previous
   * append returned. @default 5
   */
  @IsInt() @Min(0) @Max(100) coalesceMs!: number;
}

export const recoveryConfigSlice: ConfigSlice<RecoveryConfig> = {
  type: RecoveryConfig,
  defaults: () => ({ enabled: true, windowMs: 120_000, maxHistory: 10_000, leaseMs: 3_000, coalesceMs: 5 }),
  keys: [
    { path: 'recovery.enabled', file: 'recovery.enabled', env: ['ECHO_RELAY_RECOVERY'], kind: 'bool' },
    { path: 'recovery.windowMs', file: 'recovery.windowMs', env: ['ECHO_RELAY_RECOVERY_WINDOW_MS'], kind: 'int' },
    {
      path: 'recovery.maxHistory',
      file: 'recovery.maxHistory',
      env: ['ECHO_RELAY_RECOVERY_MAX_HISTORY'],
      kind: 'int',
    },
    { path: 'recovery.leaseMs', file: 'recovery.leaseMs', env: ['ECHO_RELAY_RECOVERY_LEASE_MS'], kind: 'int' },
    {
      path: 'recovery.coalesceMs',
      file: 'recovery.coalesceMs',
      env: ['ECHO_RELAY_RECOVERY_COALESCE_MS'],
      kind: 'int',
    },
  ],
};
