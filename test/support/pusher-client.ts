import { createRequire } from 'node:module';
import Echo from 'laravel-echo';
import PusherModule from 'pusher-js';
import WebSocket from 'ws';
import { withTimeout } from './echo-client.js';

/** The app every Pusher spec configures: `ECHO_RELAY_CLIENTS` holds it with its secret. */
export const PUSHER_APP = { appId: 'pusher-app', key: 'pusher-key', secret: 'pusher-secret' } as const;

/** `ECHO_RELAY_CLIENTS` for `PUSHER_APP`, plus an app without a secret (no Pusher endpoint). */
export const PUSHER_CLIENTS_ENV = JSON.stringify([PUSHER_APP, { appId: 'plain-app', key: 'plain-key' }]);

export type PusherEcho = Echo<'pusher'>;

/**
 * pusher-js's Node build is CommonJS whose `module.exports` is the Pusher class itself; its typings
 * describe an ES module with the class as `default`, which Node's import of CommonJS does not give.
 */
const Pusher = PusherModule as unknown as typeof PusherModule.default;
type PusherClient = InstanceType<typeof Pusher>;

/**
 * Laravel Echo with the `pusher` or `reverb` broadcaster over pusher-js 8 (its Node build, WebSocket
 * only), pointed at a relay's port; auth requests go to `authUrl` with `Authorization: Bearer <token>`.
 */
export function createPusherEcho(
  port: number,
  options: { broadcaster?: 'pusher' | 'reverb'; authUrl?: string; token?: string; key?: string } = {},
): PusherEcho {
  const { broadcaster = 'reverb', authUrl, token, key = PUSHER_APP.key } = options;
  // User authentication (`pusher.signin()`) asks the app's `/broadcasting/user-auth`, as the token's user.
  const userAuthentication = authUrl && {
    endpoint: `${authUrl}/broadcasting/user-auth`,
    transport: 'ajax',
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  };
  return new Echo({
    broadcaster,
    Pusher,
    key,
    wsHost: '127.0.0.1',
    wsPort: port,
    wssPort: port,
    forceTLS: false,
    enabledTransports: ['ws'],
    cluster: 'mt1',
    authEndpoint: authUrl ? `${authUrl}/broadcasting/auth` : undefined,
    ...(userAuthentication ? { userAuthentication } : {}),
    ...(token === undefined ? {} : { bearerToken: token }),
  } as never);
}

/** The pusher-js client behind an Echo instance. */
export function pusherOf(echo: PusherEcho): PusherClient {
  return (echo.connector as unknown as { pusher: PusherClient }).pusher;
}

/** Resolves once pusher-js is connected (its `socket_id` known). */
export function pusherConnected(echo: PusherEcho, timeoutMs = 5000): Promise<string> {
  const connection = pusherOf(echo).connection;
  if (connection.state === 'connected') return Promise.resolve(connection.socket_id);
  return withTimeout(
    new Promise((resolve, reject) => {
      connection.bind('connected', () => resolve(connection.socket_id));
      connection.bind('failed', () => reject(new Error('pusher-js connection failed')));
    }),
    timeoutMs,
    'pusher-js connect',
  );
}

/** One frame a raw Pusher client received, data parsed when it is JSON text. */
export interface PusherFrame {
  event: string;
  channel?: string;
  data?: unknown;
  /** `data` as it came, before parsing. */
  raw?: unknown;
}

/**
 * A Pusher-protocol client on a bare WebSocket, for what pusher-js would never send: malformed
 * frames, forged signatures, unanswered pings. Frames are kept in order; `next` waits for one.
 */
export class RawPusher {
  readonly frames: PusherFrame[] = [];
  closed?: { code: number; reason: string };
  /** The socket id, once `socketId()` read it. */
  id?: string;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw: Buffer) => {
      const frame = JSON.parse(raw.toString('utf8')) as PusherFrame;
      frame.raw = frame.data;
      if (typeof frame.data === 'string') {
        try {
          frame.data = JSON.parse(frame.data) as unknown;
        } catch {
          // Some data is plain text.
        }
      }
      this.frames.push(frame);
      this.wake();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  static async open(
    port: number,
    key: string = PUSHER_APP.key,
    query = 'protocol=7&client=js&version=8.4.0',
  ): Promise<RawPusher> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/app/${key}?${query}`);
    const client = new RawPusher(ws);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }),
      5000,
      'raw Pusher connect',
    );
    return client;
  }

  /** The socket id of `pusher:connection_established`. */
  async socketId(): Promise<string> {
    if (this.id !== undefined) return this.id;
    const frame = await this.next((f) => f.event === 'pusher:connection_established');
    return (this.id = (frame.data as { socket_id: string }).socket_id);
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first frame (received or to come) matching `match`, removed from `frames`. */
  async next(match: (frame: PusherFrame) => boolean, timeoutMs = 5000): Promise<PusherFrame> {
    const found = (): PusherFrame | undefined => {
      const index = this.frames.findIndex(match);
      return index < 0 ? undefined : this.frames.splice(index, 1)[0];
    };
    return withTimeout(
      new Promise<PusherFrame>((resolve, reject) => {
        const check = (): void => {
          const frame = found();
          if (frame) return resolve(frame);
          if (this.closed) return reject(new Error(`closed ${this.closed.code} ${this.closed.reason}`));
          this.waiters.push(check);
        };
        check();
      }),
      timeoutMs,
      'a Pusher frame',
    );
  }

  /** Resolves with the close code once the server closed the connection. */
  async closedWith(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    return withTimeout(
      new Promise((resolve) => {
        const check = (): void => (this.closed ? resolve(this.closed) : void this.waiters.push(check));
        check();
      }),
      timeoutMs,
      'the server closing the connection',
    );
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const waiting = this.waiters.splice(0);
    for (const waiter of waiting) waiter();
  }
}

/** NaCl as pusher-js itself ships it (a dependency of pusher-js, not of echo-relay). */
const nacl = createRequire(createRequire(import.meta.url).resolve('pusher-js'))('tweetnacl') as {
  randomBytes(n: number): Uint8Array;
  secretbox: ((msg: Uint8Array, nonce: Uint8Array, key: Uint8Array) => Uint8Array) & { nonceLength: number };
};

/** What Laravel's pusher driver sends on an encrypted channel: `{nonce, ciphertext}` (NaCl secretbox, base64). */
export function encrypt(key: string, payload: unknown): { nonce: string; ciphertext: string } {
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  const box = nacl.secretbox(Buffer.from(JSON.stringify(payload)), nonce, Buffer.from(key, 'base64'));
  return { nonce: Buffer.from(nonce).toString('base64'), ciphertext: Buffer.from(box).toString('base64') };
}
