import { Injectable, Logger } from '@nestjs/common';
import { channelNameProblem, channelType, isCacheChannel, serverToUserId } from '../channels/channel-type.js';
import type { PresenceMember } from '../channels/presence-directory.js';
import { toPresenceMember } from '../channels/presence-member.js';
import { PresenceService } from '../channels/presence.service.js';
import { ROOM_MEMBER, roomKey } from '../channels/room-entry.js';
import { isPlainObject } from '../common/plain-object.js';
import { LimitsConfig } from '../limits/limits.config.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { CacheMisses } from '../webhooks/cache-misses.js';
import { anyTargetWants } from '../webhooks/webhook-targets.js';
import { WebhooksConfig } from '../webhooks/webhooks.config.js';
import { ChannelCache, type CacheRecall } from './channel-cache.js';
import { verifyChannelAuth } from './pusher-apps.js';
import type { PusherConnection } from './pusher-connection.js';
import { PusherHub } from './pusher-hub.js';
import { cacheMissFrame, presenceData, pusherFrame, subscriptionErrorFrame } from './pusher-protocol.js';

/** The `data` of a `pusher:subscribe` or `pusher:unsubscribe` that names a usable channel (see `channelProblem`). */
export type SubscribeData = Record<string, unknown> & { channel: string };

/**
 * What is wrong with the `data` of a `pusher:subscribe` or `pusher:unsubscribe`, in a few words;
 * undefined when it names a usable channel.
 */
export function channelProblem(data: unknown): string | undefined {
  if (!isPlainObject(data)) return '"data" is not an object';
  if (data.channel === undefined) return 'no "channel"';
  const problem = channelNameProblem(data.channel);
  return problem === undefined ? undefined : `"channel" is ${problem}`;
}

/** A refused subscribe: its status and error for the client, and its reason in `subscriptions_refused_total`, if counted. */
interface Refusal {
  status: number;
  error: string;
  counted?: 'max_channels' | 'server_to_user';
}

/**
 * `pusher:subscribe` and `pusher:unsubscribe`. The client asked the app for its signature itself,
 * so authorising is one HMAC check, and the rest is the socket.io path's: the same rooms
 * (`PusherHub`), the same presence store and announcements (`PresenceService`, which takes a
 * Pusher connection as it takes a socket), the same channel limit and occupancy entries. A cache
 * channel's subscriber then gets its cached event or `pusher:cache_miss` (`ChannelCache`).
 */
@Injectable()
export class PusherSubscriptions {
  private readonly log = new Logger('Pusher');
  /** As `ChannelSubscriptions.countRooms`: occupancy entries only when a webhook wants them. */
  private readonly countRooms: boolean;

  constructor(
    private readonly hub: PusherHub,
    private readonly presence: PresenceService,
    private readonly limits: LimitsConfig,
    private readonly metrics: RelayMetrics,
    private readonly cache: ChannelCache,
    private readonly cacheMisses: CacheMisses,
    webhooks: WebhooksConfig,
  ) {
    this.countRooms = anyTargetWants(webhooks, ['channel_occupied', 'channel_vacated']);
  }

  /** A subscribe whose `data` passed `channelProblem` (`PusherMessages` answers the others). */
  async subscribe(connection: PusherConnection, data: SubscribeData): Promise<void> {
    const { channel } = data;
    const refusal = this.refusal(connection, channel, data);
    if (refusal) {
      if (refusal.counted) this.metrics.subscriptionsRefused.inc({ reason: refusal.counted });
      return connection.send(subscriptionErrorFrame(channel, refusal.status, refusal.error));
    }
    if (connection.channels.has(channel)) return;
    const member = channelType(channel) === 'presence' ? toPresenceMember(data.channel_data) : undefined;
    connection.channels.set(channel, member ?? null);
    // Held from the moment the room is joined: what arrives while the cache is read waits for it.
    const held = isCacheChannel(channel) ? connection.hold(channel) : undefined;
    const recall = held && this.cache.recall(channel);
    this.hub.join(connection, channel);
    if (this.countRooms) this.countRoom(connection, channel);
    if (!member) connection.send(pusherFrame('pusher_internal:subscription_succeeded', '{}', channel));
    else if (!(await this.joinPresence(connection, channel, member))) return;
    if (held && recall) await this.replay(connection, channel, held, recall);
  }

  /**
   * The cached event, or `pusher:cache_miss` (and its webhook, when nothing is cached: not when
   * Redis did not answer), right after `subscription_succeeded`, then what arrived meanwhile.
   */
  private async replay(
    connection: PusherConnection,
    channel: string,
    held: readonly string[],
    recall: Promise<CacheRecall>,
  ): Promise<void> {
    const cached = await recall;
    if (cached.result === 'miss') this.cacheMisses.missed(channel);
    connection.release(channel, held, cached.result === 'hit' ? cached.frame : cacheMissFrame(channel));
  }

  /**
   * An unsubscribe whose `data` passed `channelProblem`. Leaving a channel the connection is not in
   * does nothing and answers nothing: a repeated unsubscribe, or one sent while a refusal was on
   * its way, is no client error.
   */
  async unsubscribe(connection: PusherConnection, { channel }: { channel: string }): Promise<void> {
    if (!connection.channels.delete(channel)) return;
    connection.drop(channel);
    this.hub.leave(connection, channel);
    await this.presence.remove(connection, channel);
    if (this.countRooms) await this.presence.remove(connection, roomKey(channel));
  }

  /** A closed connection: out of every room here, its presence entries to `PresenceService`. */
  async disconnected(connection: PusherConnection): Promise<void> {
    this.hub.remove(connection);
    connection.channels.clear();
    await this.presence.disconnected(connection);
  }

  /**
   * Why this subscribe is refused: a bad signature, unusable presence data, another user's
   * `#server-to-user-` channel, too many channels.
   */
  private refusal(connection: PusherConnection, channel: string, data: Record<string, unknown>): Refusal | undefined {
    const user = serverToUserId(channel);
    if (user !== undefined && user !== connection.userId) {
      const error = connection.userId === undefined ? 'Not signed in' : 'Signed in as another user';
      return { status: 403, error, counted: 'server_to_user' };
    }
    const type = channelType(channel);
    if (type !== 'public') {
      const channelData = type === 'presence' ? data.channel_data : undefined;
      if (type === 'presence' && typeof channelData !== 'string') {
        return { status: 401, error: 'presence channels need channel_data' };
      }
      if (!verifyChannelAuth(connection.app, connection.id, channel, data.auth, channelData as string | undefined)) {
        return { status: 401, error: 'Invalid signature' };
      }
      if (type === 'presence' && !toPresenceMember(channelData)) {
        return { status: 401, error: 'channel_data has no user_id' };
      }
    }
    if (!connection.channels.has(channel) && connection.channels.size >= this.limits.maxChannelsPerSocket) {
      return { status: 429, error: 'too many channels', counted: 'max_channels' };
    }
    return undefined;
  }

  /**
   * In the room before the member list is read, as on the socket.io path (see `ChannelSubscriptions`);
   * false when the presence store failed and the subscribe was undone.
   */
  private async joinPresence(connection: PusherConnection, channel: string, member: PresenceMember): Promise<boolean> {
    try {
      await this.presence.add(connection, channel, member, (members) => {
        if (connection.channels.has(channel)) {
          connection.send(pusherFrame('pusher_internal:subscription_succeeded', presenceData(members), channel));
        }
      });
      return true;
    } catch (err) {
      this.log.error(`${connection.id}: presence store failed for ${channel}: ${(err as Error).message}`);
      await this.unsubscribe(connection, { channel }).catch(() => undefined);
      connection.send(subscriptionErrorFrame(channel, 503, 'presence store unavailable'));
      return false;
    }
  }

  private countRoom(connection: PusherConnection, channel: string): void {
    this.presence.add(connection, roomKey(channel), ROOM_MEMBER).catch((err: Error) => {
      this.log.warn(`${connection.id}: could not count ${channel} for the occupancy webhooks: ${err.message}`);
    });
  }
}
