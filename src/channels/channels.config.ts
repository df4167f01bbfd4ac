import { IsBoolean, IsInt, Max, Min } from '../internals/class-validator.js';
import type { ConfigSlice } from '../config/config-slice.js';

/** Presence members, kept in Redis so every node answers the same. */
export class PresenceConfig {
  /**
   * Longest time the members of a node that died without cleaning up stay listed. Live nodes
   * renew their lease four times per period and purge the members of expired ones. A time when no
   * node renewed (a Redis failover) is added to every lease. @default 30000
   */
  @IsInt() @Min(500) @Max(600_000) leaseMs!: number;
  /**
   * How long a disconnected socket stays a member before its departure is announced. A client
   * that reconnects within it (missed-event recovery, or a node restart) re-adds itself without
   * anyone seeing it leave and join again. 0 removes it at once. @default 0
   */
  @IsInt() @Min(0) @Max(600_000) leaveGraceMs!: number;
  /**
   * On every change of a presence channel's members, PUBLISH them on the Redis channel
   * `PresenceChannelUpdated`, as laravel-echo-server's `databaseConfig.publishPresence` did
   * (see `PUBLISH_MEMBERS` and docs/webhooks.md). @default false
   */
  @IsBoolean() publish!: boolean;
}

/** How often a node renews its presence lease and sweeps the expired ones: four times per lease. */
export function leaseRenewalMs(leaseMs: number): number {
  return Math.max(100, Math.floor(leaseMs / 4));
}

/** Client events (`whisper`) between members of private and presence channels. */
export class WhisperConfig {
  /** Relay `client-*` events at all. @default true */
  @IsBoolean() enabled!: boolean;
  /** Client events one socket may send per second (burst of the same size); more are dropped. @default 10 */
  @IsInt() @Min(1) @Max(10_000) ratePerSecond!: number;
}

export const presenceConfigSlice: ConfigSlice<PresenceConfig> = {
  type: PresenceConfig,
  defaults: () => ({ leaseMs: 30_000, leaveGraceMs: 0, publish: false }),
  keys: [
    { path: 'presence.leaseMs', file: 'presence.leaseMs', env: ['ECHO_RELAY_PRESENCE_LEASE_MS'], kind: 'int' },
    {
      path: 'presence.leaveGraceMs',
      file: 'presence.leaveGraceMs',
      env: ['ECHO_RELAY_PRESENCE_LEAVE_GRACE_MS'],
      kind: 'int',
    },
    {
      path: 'presence.publish',
      file: 'databaseConfig.publishPresence',
      env: ['ECHO_RELAY_PUBLISH_PRESENCE'],
      kind: 'bool',
    },
  ],
  /**
   * The old server kept presence members in Redis or SQLite (`database`, `databaseConfig.sqlite`);
   * they always live in Redis here, so another choice is worth a warning, not a failed start.
   */
  legacyFileKeys: ['database', 'databaseConfig.sqlite'],
  fromLegacyFile(file, _layer, warnings) {
    if (file.database !== undefined && file.database !== 'redis') {
      warnings.push(
        `"database": ${JSON.stringify(file.database)} is not supported: presence members are kept in Redis`,
      );
    }
  },
};

export const whisperConfigSlice: ConfigSlice<WhisperConfig> = {
  type: WhisperConfig,
  defaults: () => ({ enabled: true, ratePerSecond: 10 }),
  keys: [
    { path: 'whispers.enabled', file: 'whispers.enabled', env: ['ECHO_RELAY_WHISPERS'], kind: 'bool' },
    {
      path: 'whispers.ratePerSecond',
      file: 'whispers.ratePerSecond',
      env: ['ECHO_RELAY_WHISPER_RATE'],
      kind: 'int',
    },
  ],
};
