import { IsBoolean, IsInt, Min } from '../internals/class-validator.js';
import type { ConfigSlice } from '../config/config-slice.js';

/** Ingest of broadcasts published by Laravel. */
export class BroadcastConfig {
  /** Subscribe to Redis at all (the old `subscribers.redis`). @default true */
  @IsBoolean() redis!: boolean;
  /** Messages larger than this many bytes are dropped and counted. @default 1048576 */
  @IsInt() @Min(1) maxMessageBytes!: number;
}

export const broadcastConfigSlice: ConfigSlice<BroadcastConfig> = {
  type: BroadcastConfig,
  defaults: () => ({ redis: true, maxMessageBytes: 1024 * 1024 }),
  keys: [
    { path: 'broadcast.redis', file: 'subscribers.redis', env: ['ECHO_RELAY_SUBSCRIBE_REDIS'], kind: 'bool' },
    { path: 'broadcast.maxMessageBytes', file: 'maxMessageBytes', env: ['ECHO_RELAY_MAX_MESSAGE_BYTES'], kind: 'int' },
  ],
};
