import type { LoggerService } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channelRoom } from '../../src/channels/channel-room.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { PlainObject } from '../../src/common/plain-object.js';
import { deepMerge } from '../../src/config/deep-merge.js';
import { RelayConfig } from '../../src/config/relay-config.js';
import { SocketServer } from '../../src/gateway/socket-server.js';
import { ApiListener } from '../../src/http-api/api-listener.js';
import { RelayMetrics } from '../../src/metrics/relay-metrics.js';
import { startServer, type RunningServer } from '../../src/server/start-server.js';
import { httpStatus } from './http.js';
import { waitUntil } from './ports.js';

/** Log lines a relay wrote, for assertions on what operators would see. */
export class MemoryLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log(message: unknown): void {
    this.push('log', message);
  }
  error(message: unknown): void {
    this.push('error', message);
  }
  warn(message: unknown): void {
    this.push('warn', message);
  }
  debug(message: unknown): void {
    this.push('debug', message);
  }
  verbose(message: unknown): void {
    this.push('verbose', message);
  }
  fatal(message: unknown): void {
    this.push('fatal', message);
  }
  matching(pattern: RegExp): string[] {
    return this.lines.map((l) => l.message).filter((m) => pattern.test(m));
  }
  private push(level: string, message: unknown): void {
    this.lines.push({ level, message: String(message) });
  }
}

export interface TestRelay extends RunningServer {
  config: RelayConfig;
  logs: MemoryLogger;
  /** This node's sockets: how many are in a channel's room here, and the cluster's through the adapter. */
  gateway: RelaySockets;
  metrics: RelayMetrics;
  /** Where the HTTP API and `/metrics` answer: `url`, or the separate listener of `api.port`. */
  apiUrl: string;
  /** Resolves once `count` sockets of this node are in the channel's room. */
  waitForSubscribers(channel: string, count: number): Promise<void>;
  ready(): Promise<number>;
}

export interface RelaySockets {
  localSubscriberCount(channel: string): number;
  clusterSockets: SocketServer['clusterSockets'];
}

/**
 * Boots the real app in this process on a free port, through the same config loader as the CLI
 * (env layer given here, no file unless named), with `overrides` deep-merged last.
 */
export async function startRelay(
  options: { env?: Record<string, string>; file?: string; overrides?: PlainObject } = {},
): Promise<TestRelay> {
  const cwd = mkdtempSync(join(tmpdir(), 'echo-relay-test-'));
  const loaded = loadConfig({
    env: { PORT: '0', ECHO_RELAY_HOST: '127.0.0.1', ...options.env },
    file: options.file,
    cwd,
  });
  const config = options.overrides
    ? (Object.assign(
        new RelayConfig(),
        deepMerge(loaded.config as unknown as PlainObject, options.overrides),
      ) as RelayConfig)
    : loaded.config;
  const logs = new MemoryLogger();
  const server = await startServer(config, { logger: logs, warnings: loaded.warnings });
  const sockets = server.app.get(SocketServer);
  const gateway: RelaySockets = {
    localSubscriberCount: (channel) => sockets.localRooms.rooms.get(channelRoom(channel))?.size ?? 0,
    clusterSockets: (channel) => sockets.clusterSockets(channel),
  };
  return {
    ...server,
    config,
    logs,
    gateway,
    metrics: server.app.get(RelayMetrics),
    apiUrl: server.app.get(ApiListener).url ?? server.url,
    waitForSubscribers: (channel, count) =>
      waitUntil(() => gateway.localSubscriberCount(channel) === count, 5000, `${count} subscriber(s) in ${channel}`),
    ready: () => httpStatus(`${server.url}/ready`),
  };
}

/** Starts a relay and waits until its Redis subscription is live. */
/** `echo_relay_messages_dropped_total` of `relay` for `reason` (0 before the first). */
export async function droppedCount(relay: TestRelay, reason: string): Promise<number> {
  const { values } = await relay.metrics.messagesDropped.get();
  return values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

export async function startReadyRelay(options: Parameters<typeof startRelay>[0] = {}): Promise<TestRelay> {
  const relay = await startRelay(options);
  await waitUntil(async () => (await relay.ready()) === 200, 5000, 'relay readiness');
  return relay;
}
