import { Injectable } from '@nestjs/common';
import { channelOfRoom } from '../channels/channel-room.js';
import { channelType } from '../channels/channel-type.js';
import { PresenceDirectory, type PresenceMember } from '../channels/presence-directory.js';
import { SocketServer } from '../gateway/socket-server.js';
import { PusherHub } from '../pusher/pusher-hub.js';
import { whileRedisAnswers } from './redis-unavailable.js';

export interface ChannelInfo {
  subscription_count: number;
  occupied: boolean;
  /** Presence channels only: distinct users. */
  user_count?: number;
}

/**
 * The numbers behind the HTTP API's GET endpoints, in the old server's shapes. Sockets are counted
 * through the socket.io adapter, so with several nodes the counts are the cluster's (the old
 * server counted its own process only); presence members come from the `PresenceDirectory`.
 * Both need Redis: while it is unreachable every method throws `RedisUnavailable` (a 503) at once
 * rather than a 500 after the adapter's timeout, or a request held open until Redis returns.
 */
@Injectable()
export class ChannelStats {
  constructor(
    private readonly sockets: SocketServer,
    private readonly presence: PresenceDirectory,
    private readonly pusher: PusherHub,
  ) {}

  /** `GET /apps/:appId/status`: `subscription_count` is the number of connected sockets, as before. */
  async status(): Promise<{ subscription_count: number; uptime: number; memory_usage: NodeJS.MemoryUsage }> {
    const sockets = await this.redis(() => this.sockets.clusterSockets());
    return { subscription_count: sockets.length, uptime: process.uptime(), memory_usage: process.memoryUsage() };
  }

  /** Every channel with at least one socket; a socket's own room (named after its id) is no channel. */
  async channels(prefix = ''): Promise<Record<string, ChannelInfo>> {
    // Pusher connections are in the adapter's rooms but are no sockets: their hubs count them.
    const counts = await this.redis(() => this.pusher.clusterCounts(prefix));
    for (const socket of await this.redis(() => this.sockets.clusterSockets())) {
      for (const room of socket.rooms) {
        const channel = channelOfRoom(room);
        if (channel === undefined || !channel.startsWith(prefix)) continue;
        counts.set(channel, (counts.get(channel) ?? 0) + 1);
      }
    }
    // fromEntries defines own properties: a channel named `__proto__` stays a channel.
    return Object.fromEntries(
      [...counts]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, count]) => [name, { subscription_count: count, occupied: true }]),
    );
  }

  async channel(name: string): Promise<ChannelInfo> {
    return this.redis(async () => {
      const pusher = (await this.pusher.clusterCounts(name)).get(name) ?? 0;
      const count = (await this.sockets.clusterSockets(name)).length + pusher;
      const info: ChannelInfo = { subscription_count: count, occupied: count > 0 };
      if (channelType(name) === 'presence') info.user_count = (await this.presence.members(name)).length;
      return info;
    });
  }

  /** Presence channels only; callers check the type first. */
  async users(name: string): Promise<{ id: PresenceMember['user_id']; user_info: unknown }[]> {
    const members = await this.redis(() => this.presence.members(name));
    return members.map((m) => ({ id: m.user_id, user_info: m.user_info }));
  }

  /** Whether Redis answers now (the presence store's connection stands for it); publishing checks it too. */
  get redisConnected(): boolean {
    return this.presence.connected;
  }

  private redis<T>(read: () => Promise<T>): Promise<T> {
    return whileRedisAnswers(() => this.presence.connected, read);
  }
}
