import { isIP } from 'node:net';
import { IsInt, IsString, Max, Min } from '../internals/class-validator.js';
import type { ConfigKey, ConfigSlice } from '../config/config-slice.js';
import { labelIn } from '../config/key-label.js';

/**
 * What one client, one IP address or the whole node may cost: every limit of echo-relay in one
 * section, so one README table lists them all. `0` means unlimited where a field says so.
 */
export class LimitsConfig {
  /**
   * Bytes queued for one socket but not yet written (WebSocket: what `ws` and the kernel socket
   * hold; long-polling: engine.io's write buffer). A socket over it is disconnected at once.
   * @default 4194304
   */
  @IsInt() @Min(1024) maxBufferedBytes!: number;
  /** Authorisations of one socket in flight at once; further subscribes wait their turn. @default 8 */
  @IsInt() @Min(1) @Max(1_000) maxPendingAuthPerSocket!: number;
  /** Concurrent requests of this node to the auth host (one keep-alive agent). @default 256 */
  @IsInt() @Min(1) @Max(65_536) authConcurrency!: number;
  /** Channels one socket may be subscribed to; past it `subscription_error` 429. @default 1000 */
  @IsInt() @Min(1) maxChannelsPerSocket!: number;
  /**
   * Bytes of the headers a private or presence subscribe would forward to the auth host (names
   * and values of its `auth.headers` and of the v4 CONNECT payload's); past it `subscription_error`
   * 431 and no auth call. Every subscribe waiting for an auth slot keeps its headers. @default 8192
   */
  @IsInt() @Min(256) @Max(1_048_576) maxAuthHeaderBytes!: number;
  /** Connections this node accepts at once; `0` is unlimited. @default 0 */
  @IsInt() @Min(0) maxConnections!: number;
  /** Connections from one client IP address at once; `0` is unlimited. @default 0 */
  @IsInt() @Min(0) maxConnectionsPerIp!: number;
  /**
   * Bytes of recovery sessions (their JSON) this node keeps in Redis for one client IP address's
   * dropped connections, over `recovery.windowMs`; past it a dropped connection's session is
   * deleted and its client reconnects fresh. A graceful stop's sessions are not counted. `0` is
   * unlimited. @default 67108864
   */
  @IsInt() @Min(0) maxRecoveryBytesPerIp!: number;
  /**
   * Proxies (IP addresses) whose `X-Forwarded-For` names the client for `maxConnectionsPerIp`;
   * from anyone else the header is ignored. @default []
   */
  @IsString({ each: true }) trustedProxies!: string[];
  /** Largest whisper (client event), its text and binary attachments counted together. @default 65536 */
  @IsInt() @Min(1) maxWhisperBytes!: number;
  /**
   * Messages one connection may send a second, sustained (socket.io: every engine.io packet, pings
   * and binary attachments included; Pusher: every WebSocket message). Over it the connection is
   * closed at once. `0` is unlimited. @default 200
   */
  @IsInt() @Min(0) @Max(1_000_000) maxMessagesPerSecond!: number;
  /**
   * Messages one connection may send at once above `maxMessagesPerSecond` (a new connection starts
   * with this many): Echo re-subscribes every channel at once after a reconnect, so keep it well
   * above `maxChannelsPerSocket`. @default 5000
   */
  @IsInt() @Min(1) @Max(10_000_000) maxMessageBurst!: number;
}

export const limitsConfigSlice: ConfigSlice<LimitsConfig> = {
  type: LimitsConfig,
  defaults: () => ({
    maxBufferedBytes: 4 * 1024 * 1024,
    maxPendingAuthPerSocket: 8,
    authConcurrency: 256,
    maxChannelsPerSocket: 1_000,
    maxAuthHeaderBytes: 8 * 1024,
    maxConnections: 0,
    maxConnectionsPerIp: 0,
    maxRecoveryBytesPerIp: 64 * 1024 * 1024,
    trustedProxies: [],
    maxWhisperBytes: 64 * 1024,
    maxMessagesPerSecond: 200,
    maxMessageBurst: 5_000,
  }),
  /** A proxy is compared with the TCP peer's address: a name or a typo would never match, silently. */
  check(section) {
    return section.trustedProxies
      .filter((proxy) => isIP(proxy.trim()) === 0)
      .map(
        (proxy) =>
          `${labelIn(limitsConfigSlice.keys, 'limits.trustedProxies')}: ${JSON.stringify(proxy)} is not an IP address (names and ranges are not supported)`,
      );
  },
  keys: [
    limit('maxBufferedBytes', 'ECHO_RELAY_MAX_BUFFERED_BYTES'),
    limit('maxPendingAuthPerSocket', 'ECHO_RELAY_MAX_PENDING_AUTH_PER_SOCKET'),
    limit('authConcurrency', 'ECHO_RELAY_AUTH_CONCURRENCY'),
    limit('maxChannelsPerSocket', 'ECHO_RELAY_MAX_CHANNELS_PER_SOCKET'),
    limit('maxAuthHeaderBytes', 'ECHO_RELAY_MAX_AUTH_HEADER_BYTES'),
    limit('maxConnections', 'ECHO_RELAY_MAX_CONNECTIONS'),
    limit('maxConnectionsPerIp', 'ECHO_RELAY_MAX_CONNECTIONS_PER_IP'),
    limit('maxRecoveryBytesPerIp', 'ECHO_RELAY_MAX_RECOVERY_BYTES_PER_IP'),
    { path: 'limits.trustedProxies', file: 'limits.trustedProxies', env: ['ECHO_RELAY_TRUSTED_PROXIES'], kind: 'list' },
    limit('maxWhisperBytes', 'ECHO_RELAY_MAX_WHISPER_BYTES'),
    limit('maxMessagesPerSecond', 'ECHO_RELAY_MAX_MESSAGES_PER_SECOND'),
    limit('maxMessageBurst', 'ECHO_RELAY_MAX_MESSAGE_BURST'),
  ],
};

function limit(name: Exclude<keyof LimitsConfig, 'trustedProxies'>, env: string): ConfigKey {
  return { path: `limits.${name}`, file: `limits.${name}`, env: [env], kind: 'int' };
}
