import { IsBoolean, IsInt, Max, Min } from '../internals/class-validator.js';
import type { ConfigSlice } from '../config/config-slice.js';

/**
 * The Pusher Channels protocol endpoint, `ws(s)://host:port/app/{key}`, served beside socket.io for
 * every `clients` entry that has a `secret` (see docs/pusher.md).
 */
export class PusherConfig {
  /** Serve the endpoint at all (it still needs a client with a `secret`). @default true */
  @IsBoolean() enabled!: boolean;
  /**
   * Seconds without a message from a client before the server sends it `pusher:ping`; also the
   * `activity_timeout` clients are told, after which they ping the server themselves. @default 120
   */
  @IsInt() @Min(1) @Max(3600) activityTimeoutSec!: number;
  /** Seconds a client has to answer that ping before it is closed with 4201. @default 30 */
  @IsInt() @Min(1) @Max(600) pongTimeoutSec!: number;
  /**
   * Seconds a cache channel's last event is kept (in Redis) after it was published; Pusher keeps it
   * up to 30 minutes. @default 1800
   */
  @IsInt() @Min(1) @Max(86_400) cacheTtlSec!: number;
}

export const pusherConfigSlice: ConfigSlice<PusherConfig> = {
  type: PusherConfig,
  defaults: () => ({ enabled: true, activityTimeoutSec: 120, pongTimeoutSec: 30, cacheTtlSec: 1800 }),
  keys: [
    { path: 'pusher.enabled', file: 'pusher.enabled', env: ['ECHO_RELAY_PUSHER'], kind: 'bool' },
    {
      path: 'pusher.activityTimeoutSec',
      file: 'pusher.activityTimeoutSec',
      env: ['ECHO_RELAY_PUSHER_ACTIVITY_TIMEOUT'],
      kind: 'int',
    },
    {
      path: 'pusher.pongTimeoutSec',
      file: 'pusher.pongTimeoutSec',
      env: ['ECHO_RELAY_PUSHER_PONG_TIMEOUT'],
      kind: 'int',
    },
    {
      path: 'pusher.cacheTtlSec',
      file: 'pusher.cacheTtlSec',
      env: ['ECHO_RELAY_PUSHER_CACHE_TTL'],
      kind: 'int',
    },
  ],
};
