import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ApiClientConfig } from '../http-api/api.config.js';

/** One app that pusher-js clients may connect to: a `clients` entry with a `secret`. */
export interface PusherApp {
  appId: string;
  key: string;
  secret: string;
}

/**
 * The apps of the Pusher endpoint, by key, and Pusher's channel authorisation: the app's backend
 * (Laravel's `/broadcasting/auth`) signs `socket_id:channel[:channel_data]` with the app secret
 * and the client sends `key:signature`. User authentication signs `socket_id::user::user_data`.
 */
export class PusherApps {
  private readonly byKey = new Map<string, PusherApp>();

  constructor(clients: readonly ApiClientConfig[]) {
    for (const { appId, key, secret } of clients) {
      // An app without a secret could not check a signature: it has no Pusher endpoint.
      if (secret) this.byKey.set(key, { appId, key, secret });
    }
  }

  get size(): number {
    return this.byKey.size;
  }

  find(key: string): PusherApp | undefined {
    return this.byKey.get(key);
  }
}

/** `hex(HMAC-SHA256(secret, text))`, as Pusher signs. */
export function pusherSignature(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text, 'utf8').digest('hex');
}

/**
 * Whether `auth` is the app's `key:signature` of `socketId:channel[:channelData]`. The signature
 * is compared in constant time; its expected length (64 hex digits) is no secret.
 */
export function verifyChannelAuth(
  app: PusherApp,
  socketId: string,
  channel: string,
  auth: unknown,
  channelData?: string,
): boolean {
  const text = channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;
  return verifySigned(app, text, auth);
}

/**
 * Pusher's user authentication (`pusher:signin`): whether `auth` is the app's `key:signature` of
 * `socketId::user::userData`, the user data as the app's backend encoded it (Laravel's
 * `/broadcasting/user-auth`, the SDKs' `authenticateUser`).
 */
export function verifyUserAuth(app: PusherApp, socketId: string, auth: unknown, userData: string): boolean {
  return verifySigned(app, `${socketId}::user::${userData}`, auth);
}

function verifySigned(app: PusherApp, text: string, auth: unknown): boolean {
  if (typeof auth !== 'string') return false;
  const colon = auth.indexOf(':');
  if (colon < 0 || auth.slice(0, colon) !== app.key) return false;
  const expected = Buffer.from(pusherSignature(app.secret, text), 'utf8');
  const given = Buffer.from(auth.slice(colon + 1), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
