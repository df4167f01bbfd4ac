import { BadRequestException, Injectable } from '@nestjs/common';
import { channelType } from '../channels/channel-type.js';
import { ChannelStats } from '../http-api/channel-stats.service.js';

/** Attributes a caller may ask about channels (`info`), Pusher's names. */
export type ChannelAttribute = 'subscription_count' | 'user_count';
const ATTRIBUTES: readonly string[] = ['subscription_count', 'user_count'];

/** What Pusher answers about one channel; the counts only when asked for. */
export interface PusherChannelInfo {
  occupied?: boolean;
  subscription_count?: number;
  user_count?: number;
}

/**
 * The read side of Pusher's API in Pusher's shapes, on the old API's cluster-wide numbers
 * (`ChannelStats`: sockets counted through the socket.io adapter, presence members from Redis).
 * `user_count` is for presence channels only, as with Pusher: a query asking it of another channel
 * (or of a channel list not filtered on `presence-`) is a 400, while an event's `info` gets it for
 * its presence channels and leaves it out for the others (`published`).
 */
@Injectable()
export class PusherChannels {
  constructor(private readonly stats: ChannelStats) {}

  /** `GET /channels`: `{name: {}}` per occupied channel, with the counts asked for. */
  async list(prefix: string, attributes: ChannelAttribute[]): Promise<Record<string, PusherChannelInfo>> {
    if (attributes.includes('user_count') && !prefix.startsWith('presence-')) {
      throw new BadRequestException('info=user_count requires filter_by_prefix=presence-');
    }
    const channels = await this.stats.channels(prefix);
    const entries = await Promise.all(
      Object.entries(channels).map(async ([name, counts]) => {
        const info: PusherChannelInfo = {};
        if (attributes.includes('subscription_count')) info.subscription_count = counts.subscription_count;
        if (attributes.includes('user_count')) info.user_count = (await this.stats.users(name)).length;
        return [name, info] as const;
      }),
    );
    // fromEntries defines own properties: a channel named `__proto__` stays a channel.
    return Object.fromEntries(entries);
  }

  /** `GET /channels/:name`: `{occupied}` and the counts asked for. */
  async one(name: string, attributes: ChannelAttribute[]): Promise<PusherChannelInfo> {
    const presence = channelType(name) === 'presence';
    if (attributes.includes('user_count') && !presence) {
      throw new BadRequestException('info=user_count is only available for presence channels');
    }
    const counts = await this.stats.channel(name);
    return this.pick(counts, attributes, true);
  }

  /**
   * The counts asked for about a channel just published to (a trigger's `info`): `user_count` is
   * left out for a channel that is not presence, not refused, as Pusher answers (the event is sent).
   */
  async published(name: string, attributes: ChannelAttribute[]): Promise<PusherChannelInfo> {
    return this.pick(await this.stats.channel(name), attributes, false);
  }

  /** `GET /channels/:name/users`: presence channels only; ids as strings, as Pusher sends them. */
  async users(name: string): Promise<{ id: string }[]> {
    if (channelType(name) !== 'presence') {
      throw new BadRequestException('users are only available for presence channels');
    }
    return (await this.stats.users(name)).map((user) => ({ id: String(user.id) }));
  }

  private pick(
    counts: Awaited<ReturnType<ChannelStats['channel']>>,
    attributes: ChannelAttribute[],
    occupied: boolean,
  ): PusherChannelInfo {
    const info: PusherChannelInfo = occupied ? { occupied: counts.occupied } : {};
    if (attributes.includes('subscription_count')) info.subscription_count = counts.subscription_count;
    if (attributes.includes('user_count') && counts.user_count !== undefined) info.user_count = counts.user_count;
    return info;
  }
}

/** `info=a,b` as attributes; undefined when it names one Pusher does not know. */
export function attributesOf(info: unknown): ChannelAttribute[] | undefined {
  if (info === undefined || info === null || info === '') return [];
  if (typeof info !== 'string') return undefined;
  const asked = info.split(',').map((a) => a.trim());
  if (!asked.every((a) => ATTRIBUTES.includes(a))) return undefined;
  return [...new Set(asked)] as ChannelAttribute[];
}

/** `attributesOf` for a query parameter: 400 when it names an unknown attribute. */
export function attributesQuery(info: unknown): ChannelAttribute[] {
  const attributes = attributesOf(info);
  if (attributes) return attributes;
  throw new BadRequestException(`"info" may ask for ${ATTRIBUTES.join(', ')}`);
}
