import { Injectable, Logger } from '@nestjs/common';
import type { RawData } from 'ws';
import { MAX_USER_ID_LENGTH } from '../channels/presence-member.js';
import { WhisperService } from '../channels/whisper.service.js';
import { isPlainObject } from '../common/plain-object.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { verifyUserAuth } from './pusher-apps.js';
import type { PusherConnection } from './pusher-connection.js';
import { PusherCode, pusherFrame } from './pusher-protocol.js';
import { channelProblem, PusherSubscriptions, type SubscribeData } from './pusher-subscriptions.js';

type ChannelEvent = 'pusher:subscribe' | 'pusher:unsubscribe';

/**
 * What a Pusher client sends: `pusher:ping`, `pusher:subscribe`, `pusher:unsubscribe`,
 * `pusher:signin` and client events. A frame that is no `{event, ...}` JSON object, and a
 * `pusher:subscribe` or `pusher:unsubscribe` that names no usable channel, are answered with
 * `pusher:error` and dropped, counted (`pusher_messages_dropped_total`, by reason) and logged
 * (throttled); the connection stays open, as Pusher's does.
 */
@Injectable()
export class PusherMessages {
  private readonly log = new Logger('Pusher');
  private readonly throttled = new ThrottledLog(this.log, 30_000);

  constructor(
    private readonly subscriptions: PusherSubscriptions,
    private readonly whispers: WhisperService,
    private readonly metrics: RelayMetrics,
  ) {}

  receive(connection: PusherConnection, raw: RawData, binary: boolean): void {
    connection.lastSeen = Date.now();
    connection.pingedAt = 0;
    const message = binary ? undefined : parse(raw);
    if (!message) return this.malformed(connection, 'not a JSON object with a string "event"');
    const { event, data, channel } = message;
    switch (event) {
      case 'pusher:ping':
        return connection.send(pusherFrame('pusher:pong', '{}'));
      case 'pusher:pong':
        return;
      case 'pusher:subscribe':
      case 'pusher:unsubscribe':
        return this.channelRequest(connection, event, data);
      case 'pusher:signin':
        return this.signin(connection, data);
    }
    if (event.startsWith('client-')) return this.clientEvent(connection, event, channel, data);
    this.log.debug(`${connection.id}: ignored ${event.slice(0, 100)}`);
  }

  /**
   * Pusher's user authentication: `{auth, user_data}` as the app's backend signed them for this
   * socket id (`user_data` JSON with a string `id`). Signed in, the connection may join its user's
   * `#server-to-user-<id>` channel (what the app's `sendToUser` publishes on; pusher-js joins it at
   * once) and is closed by `terminate_connections` for the user. A signin that fails closes the
   * connection with 4009, as Pusher does: the client is not who it claims to be. One connection
   * is one user; signing in again as the same user is answered again.
   */
  private signin(connection: PusherConnection, data: unknown): void {
    const refused = (why: string): void => {
      this.metrics.pusherDropped.inc({ reason: 'invalid_signin' });
      this.throttled.warn('invalid_signin', `Pusher connection ${connection.id} failed to sign in: ${why}`);
      connection.close(PusherCode.UNAUTHORIZED, `Invalid signin: ${why}`);
    };
    if (!isPlainObject(data) || typeof data.user_data !== 'string') return refused('no "user_data" string');
    const userData = data.user_data;
    if (!verifyUserAuth(connection.app, connection.id, data.auth, userData)) return refused('invalid signature');
    const id = userIdOf(userData);
    if (id === undefined) return refused(`"user_data" has no "id" string of 1 to ${MAX_USER_ID_LENGTH} characters`);
    if (connection.userId !== undefined && connection.userId !== id) return refused('signed in as another user');
    connection.userId = id;
    connection.send(pusherFrame('pusher:signin_success', { user_data: userData }));
  }

  /** `pusher:subscribe` or `pusher:unsubscribe`: served when `data` names a usable channel, else refused. */
  private channelRequest(connection: PusherConnection, event: ChannelEvent, data: unknown): void {
    const problem = channelProblem(data);
    if (problem) return this.invalidChannelRequest(connection, event, problem);
    const request = data as SubscribeData;
    const work =
      event === 'pusher:subscribe'
        ? this.subscriptions.subscribe(connection, request)
        : this.subscriptions.unsubscribe(connection, request);
    this.run(connection, work);
  }

  /** Pusher's client event: a whisper, under the whispers' rules and rate limit. */
  private clientEvent(connection: PusherConnection, event: string, channel: unknown, data: unknown): void {
    const outcome = this.whispers.relayFrom(
      connection,
      { channel, event, data },
      {
        isMember: (name) => connection.channels.has(name),
        memberOf: (name) => connection.channels.get(name) ?? undefined,
      },
    );
    if (outcome.result === 'rate_limited') {
      connection.error(PusherCode.CLIENT_EVENT_RATE_LIMIT, 'Client event rejected: rate limit exceeded');
    } else if (outcome.result !== 'relayed') {
      connection.error(null, `Client event rejected: ${outcome.reason ?? outcome.result}`);
    }
  }

  private run(connection: PusherConnection, work: Promise<void>): void {
    work.catch((err: Error) => this.log.error(`${connection.id}: ${err.message}`));
  }

  /**
   * socket.io's invalid `subscribe`s and `unsubscribe`s count in
   * `messages_dropped_total{reason="invalid_client_message"}`; Pusher's count in the Pusher protocol's
   * own series (`invalid_subscribe`, `invalid_unsubscribe`), beside its malformed frames, and are
   * logged as those are (a flood of each makes one line per 30 s). Pusher answers a request it
   * cannot serve with `pusher:error` and code `null`, which closes nothing.
   */
  private invalidChannelRequest(connection: PusherConnection, event: ChannelEvent, why: string): void {
    const reason = event === 'pusher:subscribe' ? 'invalid_subscribe' : 'invalid_unsubscribe';
    this.metrics.pusherDropped.inc({ reason });
    this.throttled.warn(reason, `Pusher connection ${connection.id} sent an invalid ${event}: ${why}`);
    connection.error(null, `${event} needs {"channel": <a channel name>}`);
  }

  private malformed(connection: PusherConnection, why: string): void {
    this.metrics.pusherDropped.inc({ reason: 'malformed' });
    this.throttled.warn('malformed', `Pusher connection ${connection.id} sent a malformed message: ${why}`);
    connection.error(PusherCode.RECONNECT, `Invalid message format: ${why}`);
  }
}

/** The `id` of signed user data, as Pusher wants it: a non-empty string (bounded as presence user ids are). */
function userIdOf(userData: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(userData);
  } catch {
    return undefined;
  }
  if (!isPlainObject(parsed)) return undefined;
  const { id } = parsed;
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_USER_ID_LENGTH ? id : undefined;
}

/** The message as an object with a string `event`, or undefined. */
function parse(raw: RawData): { event: string; data?: unknown; channel?: unknown } | undefined {
  let message: unknown;
  try {
    message = JSON.parse(textOf(raw));
  } catch {
    return undefined;
  }
  if (!isPlainObject(message) || typeof message.event !== 'string') return undefined;
  return message as { event: string; data?: unknown; channel?: unknown };
}

/** ws hands text frames over as a Buffer (or fragments, or an ArrayBuffer, by `binaryType`). */
function textOf(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw as ArrayBuffer).toString('utf8');
}
