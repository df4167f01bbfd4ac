import { Injectable, Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { isPlainObject } from '../common/plain-object.js';
import { WhisperConfig } from './channels.config.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { LimitsConfig } from '../limits/limits.config.js';
import { channelRoom } from './channel-room.js';
import { isValidChannelName, requiresAuthorization } from './channel-type.js';
import { ChannelSubscriptions } from './channel-subscriptions.js';
import { TokenBucket } from './token-bucket.js';
import { RecoveryConfig } from '../recovery/recovery.config.js';
import { ClientEvents } from '../webhooks/client-events.js';
import type { PresenceMember } from './presence-directory.js';

/** Who sends a client event: a socket.io socket or a Pusher connection (`to` leaves the sender out). */
export interface WhisperSender {
  readonly id: string;
  to(room: string): { emit(event: string, ...args: unknown[]): unknown };
}

/** The sender's channels, as its protocol's subscriptions know them. */
export interface WhisperMembership {
  isMember(channel: string): boolean;
  /** Its presence member in the channel, for the `client_event` webhook's `user_id`. */
  memberOf(channel: string): PresenceMember | undefined;
}

/** What became of a client event; `reason` says why it was dropped. */
export interface WhisperResult {
  result: 'relayed' | 'refused' | 'rate_limited' | 'too_large';
  reason?: string;
}

/** Longest client event name relayed. */
const MAX_EVENT_LENGTH = 200;

/**
 * Client events (`whisper`): `{channel, event, data}` from a member of a private or presence
 * channel, for an event named `client-*`, goes to the channel's other members on every node (the
 * adapter carries `socket.to`). Everything else is dropped, counted and logged at debug; the
 * sender is not told, as with laravel-echo-server.
 */
@Injectable()
export class WhisperService {
  private readonly log = new Logger('Whisper');
  /** Each socket's allowance, created on its first whisper; only this service reads it. */
  private readonly allowances = new WeakMap<WhisperSender, TokenBucket>();

  constructor(
    private readonly config: WhisperConfig,
    private readonly metrics: RelayMetrics,
    private readonly subscriptions: ChannelSubscriptions,
    private readonly limits: LimitsConfig,
    private readonly recovery: RecoveryConfig,
    private readonly clientEvents: ClientEvents,
  ) {}

  /** A whisper of a socket.io socket (`client event`); the sender is not told the result. */
  relay(socket: Socket, body: unknown): WhisperResult {
    return this.relayFrom(socket, body, {
      isMember: (channel) => this.subscriptions.isMember(socket, channel),
      memberOf: (channel) => this.subscriptions.memberOf(socket, channel),
    });
  }

  /**
   * A client event of either protocol: to the channel's other members on every node and of both
   * protocols (the Pusher ones through the adapter's tap, see `PusherHub`).
   */
  relayFrom(sender: WhisperSender, body: unknown, membership: WhisperMembership): WhisperResult {
    const refusal = this.refusal(body, membership);
    if (refusal) return this.drop(sender, 'refused', refusal);
    const { channel, event, data } = body as { channel: string; event: string; data: unknown };
    const size = whisperBytes(body);
    if (size > this.limits.maxWhisperBytes) {
      return this.drop(
        sender,
        'too_large',
        `${size} bytes, more than limits.maxWhisperBytes ${this.limits.maxWhisperBytes}`,
      );
    }
    let allowance = this.allowances.get(sender);
    if (!allowance) this.allowances.set(sender, (allowance = new TokenBucket(this.config.ratePerSecond)));
    if (!allowance.take()) return this.drop(sender, 'rate_limited', `more than ${this.config.ratePerSecond}/s`);
    // socket.io-client ≥ 4.6 takes the last argument of any event, when it is a string, as its
    // recovery offset: a text whisper would become the offset it reconnects from. A trailing null
    // (ignored by Echo's listeners, as is any extra argument) keeps it from being taken.
    const others = sender.to(channelRoom(channel));
    if (this.recovery.enabled && typeof data === 'string') others.emit(event, channel, data, null);
    else others.emit(event, channel, data);
    this.metrics.whispers.inc({ result: 'relayed' });
    // Checked here so that a whisper builds nothing for the webhooks when no receiver wants it.
    if (this.clientEvents.wanted) {
      this.clientEvents.relayed(sender, { channel, event, data, member: membership.memberOf(channel) });
    }
    return { result: 'relayed' };
  }

  /** Why this whisper may not be relayed, or undefined when it may. */
  private refusal(body: unknown, membership: WhisperMembership): string | undefined {
    if (!this.config.enabled) return 'whispers are disabled';
    if (!isPlainObject(body) || !isValidChannelName(body.channel)) return 'not {channel, event, data}';
    const { channel, event } = body;
    // A lone surrogate would reach the other nodes as U+FFFD (the adapter speaks UTF-8).
    if (
      typeof event !== 'string' ||
      !event.startsWith('client-') ||
      event.length > MAX_EVENT_LENGTH ||
      !event.isWellFormed()
    ) {
      return `event ${JSON.stringify(event)} is not a client-* name`;
    }
    if (!requiresAuthorization(channel)) return `${channel} is not a private or presence channel`;
    if (!membership.isMember(channel)) return `not a member of ${channel}`;
    return undefined;
  }

  private drop(sender: WhisperSender, result: WhisperResult['result'], reason: string): WhisperResult {
    this.metrics.whispers.inc({ result });
    this.log.debug(`${sender.id}: whisper dropped (${result}): ${reason}`);
    return { result, reason };
  }
}

/**
 * Size of a whisper as it crossed the wire and will cross it again: the UTF-8 JSON text of the
 * payload plus every binary attachment (socket.io sends Buffers, ArrayBuffers and typed arrays of
 * `data` as separate binary packets, leaving a placeholder in the text; a placeholder is counted as
 * one digit here, its bytes as themselves).
 */
export function whisperBytes(body: unknown): number {
  let binary = 0;
  const text = JSON.stringify(body, function (this: Record<string, unknown>, key: string, value: unknown) {
    // `this[key]` is the value before toJSON: a Buffer, not its {type, data} rendering.
    const raw = this[key];
    if (raw instanceof ArrayBuffer || ArrayBuffer.isView(raw)) {
      binary += raw.byteLength;
      return 0;
    }
    return value;
  }) as string | undefined;
  return (text === undefined ? 0 : Buffer.byteLength(text)) + binary;
}
