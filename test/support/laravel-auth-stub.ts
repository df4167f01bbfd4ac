import { createHash, createHmac } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { withTimeout } from './echo-client.js';

/** One request the relay made to the auth endpoint, as Laravel would see it. */
export interface AuthCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The form fields (`channel_name`, `socket_id`). */
  form: Record<string, string>;
}

export interface StubUser {
  id: number | string;
  info: unknown;
}

interface Held {
  arrived: Promise<void>;
  release(): void;
}

/**
 * A stand-in for a Laravel app's `POST /broadcasting/auth` (BroadcastController with the redis
 * broadcaster). Users are found by `Authorization: Bearer <token>` or a `laravel_session=<token>`
 * cookie. Answers by channel name:
 * - `private-status.<code>`: that status; `private-denied.*`: 403; `private-slow.*`: never answers;
 * - `presence-broken.*`: `true` (a misconfigured presence channel, no channel_data);
 * - other `private-*`: `true` as text/html, as Laravel sends it; other `presence-*`: `{"channel_data":…}`;
 * - no known user: 403, as Laravel's AccessDeniedHttpException.
 */
export class LaravelAuthStub {
  readonly calls: AuthCall[] = [];
  readonly users = new Map<string, StubUser>();
  private readonly held = new Map<string, { signal(): void; gate: Promise<void> }>();
  /** Requests being answered now, and the most at once (`resetPeak()` starts over). */
  inFlight = 0;
  peakInFlight = 0;
  /** TCP connections the relay opened to the stub. */
  connections = 0;
  /**
   * The app whose secret signs answers to Pusher clients (a `socket_id` such as `123.456`), as
   * Laravel's pusher/reverb broadcaster does; socket.io clients still get the redis answers.
   */
  pusherApp?: { key: string; secret: string };
  /** Every answer waits this long first (ms). */
  delayMs = 0;
  private paused?: { gate: Promise<void>; open(): void };

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<LaravelAuthStub> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const stub = new LaravelAuthStub(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('connection', () => stub.connections++);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void stub.handle(req.method ?? '', req.url ?? '', req.headers, Buffer.concat(chunks), res));
    });
    return stub;
  }

  /** Holds the answer for `channel` until `release()`; `arrived` resolves when the relay asked. */
  hold(channel: string): Held {
    let arrive!: () => void;
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.held.set(channel, { signal: arrive, gate });
    return { arrived: withTimeout(arrived, 5000, `auth call for ${channel}`), release };
  }

  /** Answers nothing until `resume()` (a hanging auth host). */
  pause(): void {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    this.paused ??= { gate, open };
  }

  resume(): void {
    this.paused?.open();
    this.paused = undefined;
  }

  resetPeak(): void {
    this.peakInFlight = this.inFlight;
  }

  callsFor(channel: string): AuthCall[] {
    return this.calls.filter((c) => c.form.channel_name === channel);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    this.calls.push({ method, path, headers, form });
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    res.once('close', () => this.inFlight--);
    if (this.paused) await this.paused.gate;
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const channel = form.channel_name ?? '';
    const held = this.held.get(channel);
    if (held) {
      held.signal();
      await held.gate;
    }
    if (path.startsWith('/broadcasting/user-auth'))
      return this.answerUser(this.userOf(headers), res, form.socket_id ?? '');
    this.answer(channel, this.userOf(headers), res, form.socket_id ?? '');
  }

  /**
   * Laravel's `/broadcasting/user-auth` (`Broadcast::userRoutes()`) with the pusher/reverb
   * broadcaster: the signed-in user as Pusher's user authentication wants them,
   * `{auth: "key:hmac(socket_id::user::user_data)", user_data}`, `id` a string.
   */
  private answerUser(user: StubUser | undefined, res: ServerResponse, socketId: string): void {
    if (!user || !this.pusherApp) return send(res, 403, 'text/html', 'Forbidden');
    const userData = JSON.stringify({ id: String(user.id), user_info: user.info });
    const auth = keySignature(this.pusherApp, `${socketId}::user::${userData}`);
    send(res, 200, 'application/json', JSON.stringify({ auth, user_data: userData }));
  }

  private answer(channel: string, user: StubUser | undefined, res: ServerResponse, socketId = ''): void {
    const status = /^private-status\.(\d{3})$/.exec(channel);
    if (status) return send(res, Number(status[1]), 'text/html', 'error');
    if (channel.startsWith('private-slow.')) return;
    if (!user || channel.startsWith('private-denied.')) return send(res, 403, 'text/html', 'Forbidden');
    if (this.pusherApp && /^\d+\.\d+$/.test(socketId) && channel.startsWith('private-')) {
      const answer = signed(this.pusherApp, socketId, channel);
      // Encrypted channels: the key is the app's business and the client's, never the server's.
      if (channel.startsWith('private-encrypted-')) Object.assign(answer, { shared_secret: sharedSecret(channel) });
      return send(res, 200, 'application/json', JSON.stringify(answer));
    }
    if (channel.startsWith('presence-broken.') || channel.startsWith('private-')) {
      return send(res, 200, 'text/html; charset=UTF-8', 'true');
    }
    const channelData = { user_id: user.id, user_info: user.info };
    if (this.pusherApp && /^\d+\.\d+$/.test(socketId)) {
      return send(res, 200, 'application/json', JSON.stringify(signed(this.pusherApp, socketId, channel, channelData)));
    }
    send(res, 200, 'application/json', JSON.stringify({ channel_data: channelData }));
  }

  private userOf(headers: IncomingHttpHeaders): StubUser | undefined {
    const token = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    const session = /(?:^|;\s*)laravel_session=([^;]+)/.exec(headers.cookie ?? '')?.[1];
    return this.users.get(token ?? session ?? '');
  }
}

/** Laravel's PusherBroadcaster answer: `{auth: "key:hmac"}`, with `channel_data` for presence channels. */
function signed(
  app: { key: string; secret: string },
  socketId: string,
  channel: string,
  member?: { user_id: unknown; user_info: unknown },
): { auth: string; channel_data?: string } {
  const channelData = member === undefined ? undefined : JSON.stringify(member);
  const text = channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;
  const auth = keySignature(app, text);
  return channelData === undefined ? { auth } : { auth, channel_data: channelData };
}

/** Pusher's `key:hex(HMAC-SHA256(secret, text))`. */
function keySignature(app: { key: string; secret: string }, text: string): string {
  return `${app.key}:${createHmac('sha256', app.secret).update(text).digest('hex')}`;
}

/** The key of a `private-encrypted-` channel, derived from its name as Pusher's libraries do from a master key. */
export function sharedSecret(channel: string): string {
  return createHash('sha256').update(`${channel}stub-master-key`).digest('base64');
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type });
  res.end(body);
}
