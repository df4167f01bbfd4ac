import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { requiresAuthorization } from '../channels/channel-type.js';
import { isCurrent, socketChannels, type SubscribeAttempt } from '../channels/socket-channels.js';
import { parseChannelRequest } from '../gateway/channel-request.pipe.js';
import { SubscriptionDenied, SubscriptionIgnored } from '../gateway/client-errors.js';
import { ChannelAuthService } from './channel-auth.service.js';

/**
 * Guards `subscribe`: public channels pass; private and presence channels pass only with the
 * authorizer's yes, recorded on the socket's pending attempt for the handler. A no becomes
 * `SubscriptionDenied` (the error filter tells the client); an attempt that the socket abandoned
 * while the call was in flight becomes `SubscriptionIgnored`. A channel already joined passes
 * without a new call, and a second subscribe while one is in flight is ignored, so repeated
 * subscribes cost at most one auth call and never add a second membership.
 */
@Injectable()
export class ChannelAuthGuard implements CanActivate {
  constructor(private readonly auth: ChannelAuthService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const ws = context.switchToWs();
    const socket = ws.getClient<Socket>();
    const { channel, headers } = parseChannelRequest(ws.getData(), 'subscribe');
    if (!requiresAuthorization(channel)) return true;
    const state = socketChannels(socket);
    if (state.joined.has(channel)) return true;
    if (state.pending.has(channel)) throw new SubscriptionIgnored(channel, 'already being authorised');
    const attempt: SubscribeAttempt = { authorized: false };
    state.pending.set(channel, attempt);
    const decision = await this.auth.authorize(socket, channel, headers);
    if (!isCurrent(socket, channel, attempt))
      throw new SubscriptionIgnored(channel, 'socket left during authorisation');
    if (!decision.allowed) {
      state.pending.delete(channel);
      throw new SubscriptionDenied(channel, decision.status);
    }
    attempt.authorized = true;
    attempt.member = decision.member;
    return true;
  }
}
