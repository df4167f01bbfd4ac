import { Injectable, Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { channelType } from '../channels/channel-type.js';
import type { PresenceMember } from '../channels/presence-directory.js';
import { toPresenceMember } from '../channels/presence-member.js';
import { isPlainObject } from '../common/plain-object.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { ChannelAuthorizer, type AuthOutcome, type AuthRequest, type AuthResult } from './channel-authorizer.js';

/** The verdict `ChannelSubscriptions` acts on: join (with the presence member), or tell the client the status. */
export type AuthDecision =
  | { allowed: true; member?: PresenceMember }
  | { allowed: false; status: number; outcome: Exclude<AuthOutcome, 'allowed'> };

/**
 * Runs the configured authorizer for one subscribe: builds its request from the socket, times and
 * counts the call, turns a thrown error into a failed call, and refuses a presence "yes" that
 * names no member (a misconfigured Laravel channel) instead of crashing on it.
 */
@Injectable()
export class ChannelAuthService {
  private readonly log = new Logger('Auth');
  private readonly warnings = new ThrottledLog(this.log);

  constructor(
    private readonly authorizer: ChannelAuthorizer,
    private readonly metrics: RelayMetrics,
  ) {}

  /** `signal`: aborted when the subscribe is taken back, which abandons the call (see `AuthRequest.signal`). */
  async authorize(
    socket: Socket,
    channel: string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<AuthDecision> {
    const request: AuthRequest = {
      channel,
      type: channelType(channel),
      socketId: socket.id,
      headers,
      handshakeHeaders: socket.handshake.headers,
      handshakeAuth: isPlainObject(socket.handshake.auth) ? socket.handshake.auth : {},
      signal,
    };
    const stopTimer = this.metrics.authDuration.startTimer();
    const result = await this.call(request);
    stopTimer();
    const decision = this.decide(request, result);
    this.metrics.authRequests.inc({ outcome: decision.allowed ? 'allowed' : decision.outcome });
    return decision;
  }

  private async call(request: AuthRequest): Promise<AuthResult> {
    try {
      return await this.authorizer.authorize(request);
    } catch (err) {
      return { outcome: 'error', status: 0, reason: err instanceof Error ? err.message : String(err) };
    }
  }

  private decide(request: AuthRequest, result: AuthResult): AuthDecision {
    const who = `${request.socketId} → ${request.channel}`;
    if (result.outcome !== 'allowed') {
      if (result.outcome === 'denied' || result.outcome === 'abandoned') {
        this.log.debug(`${who}: ${result.outcome} (${result.status}): ${result.reason}`);
      } else this.warnings.warn(result.outcome, `Channel auth ${result.outcome} for ${who}: ${result.reason}`);
      return { allowed: false, status: result.status, outcome: result.outcome };
    }
    if (request.type !== 'presence') return { allowed: true };
    const member = toPresenceMember(result.channelData);
    if (member) return { allowed: true, member };
    this.warnings.warn(
      'presence-without-channel-data',
      `Auth for presence channel "${request.channel}" allowed it but sent no channel_data with a user_id: ` +
        'is the channel defined in routes/channels.php returning the user info (an array) for presence channels?',
    );
    return { allowed: false, status: result.status, outcome: 'error' };
  }
}
