import { Injectable, Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { SubscriptionDenied } from '../gateway/client-errors.js';
import { channelType } from './channel-type.js';
import { PresenceService } from './presence.service.js';
import { isCurrent, socketChannels, type SubscribeAttempt } from './socket-channels.js';

/**
 * Joins and leaves rooms for the gateway, after the auth guard: one membership per socket and
 * channel whatever the number of subscribes, nothing joined for an attempt the socket abandoned,
 * and presence members removed on unsubscribe and disconnect.
 */
@Injectable()
export class ChannelMembership {
  private readonly log = new Logger('Gateway');

  constructor(private readonly presence: PresenceService) {}

  /**
   * Joins the room; for private and presence channels only with the guard's authorised attempt.
   * False when nothing was joined (already a member, or the socket left meanwhile).
   */
  async join(socket: Socket, channel: string): Promise<boolean> {
    const state = socketChannels(socket);
    if (state.joined.has(channel) || !socket.connected) return false;
    if (channelType(channel) === 'public') {
      await this.enter(socket, channel);
      return true;
    }
    const attempt = state.pending.get(channel);
    if (!attempt?.authorized) return false;
    try {
      await this.joinAuthorized(socket, channel, attempt);
      return state.joined.has(channel);
    } finally {
      if (state.pending.get(channel) === attempt) state.pending.delete(channel);
    }
  }

  /** Leaves the room, abandons a subscribe in flight, and removes the presence member. */
  async leave(socket: Socket, channel: string): Promise<void> {
    const state = socketChannels(socket);
    state.pending.delete(channel);
    // The subscriptions gauge follows the adapter's join-room/leave-room events (MetricsFeeds).
    if (state.joined.delete(channel)) await socket.leave(channel);
    await this.presence.remove(socket, channel);
  }

  /** Everything a disconnected socket held, on this node and in the presence store. */
  async leaveAll(socket: Socket): Promise<void> {
    const state = socketChannels(socket);
    const channels = new Set([...state.joined, ...state.pending.keys(), ...state.presence.keys()]);
    await Promise.all(
      [...channels].map((channel) =>
        this.leave(socket, channel).catch((err: Error) =>
          this.log.warn(`${socket.id}: could not leave ${channel}: ${err.message}`),
        ),
      ),
    );
  }

  private async joinAuthorized(socket: Socket, channel: string, attempt: SubscribeAttempt): Promise<void> {
    if (!attempt.member) {
      if (isCurrent(socket, channel, attempt)) await this.enter(socket, channel);
      return;
    }
    if (!isCurrent(socket, channel, attempt)) return;
    // In the room before the member list is read: every member added after that read announces
    // itself to this socket with presence:joining. Entering after the read missed those who joined
    // in between, and their absence from this socket's list lasted until they left.
    await this.enter(socket, channel);
    try {
      await this.presence.add(socket, channel, attempt.member, (members) => {
        // Left while the store was written: that leave removed the member and the room again.
        if (isCurrent(socket, channel, attempt)) socket.emit('presence:subscribed', channel, members);
      });
    } catch (err) {
      this.log.error(`${socket.id}: presence store failed for ${channel}: ${(err as Error).message}`);
      await this.leave(socket, channel).catch(() => undefined);
      throw new SubscriptionDenied(channel, 503);
    }
  }

  private async enter(socket: Socket, channel: string): Promise<void> {
    socketChannels(socket).joined.add(channel);
    await socket.join(channel);
  }
}
