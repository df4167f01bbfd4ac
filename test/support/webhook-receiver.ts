import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitUntil } from './ports.js';

/** One webhook event as the receiver got it (Pusher's fields). */
export interface ReceivedEvent {
  name: string;
  channel: string;
  [field: string]: unknown;
}

/** One request, with what its signature check found. */
export interface ReceivedRequest {
  key: string | undefined;
  signed: boolean;
  body: { time_ms: number; events: ReceivedEvent[] };
  headers: IncomingMessage['headers'];
  status: number;
}

/**
 * A real HTTP receiver of webhooks, verifying each request's `X-Pusher-Signature` against the
 * HMAC-SHA256 of the raw body with `secret` (in constant time, as the Laravel controller of
 * docs/webhooks.md does). Events of requests it answered 2xx with a valid signature are in
 * `events`; `answer` picks the status of each request (200 by default). `down()` closes the port
 * (connections refused), `up()` opens it again on the same one.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  answer: (request: ReceivedRequest) => number = () => 200;
  private server?: Server;

  private constructor(
    private readonly secret: string,
    private port: number,
  ) {}

  static async start(secret: string, port = 0): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(secret, port);
    await receiver.up();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/webhooks`;
  }

  /** Events accepted (signed, answered 2xx), in the order they arrived. */
  get events(): ReceivedEvent[] {
    return this.requests.filter((r) => r.signed && r.status < 300).flatMap((r) => r.body.events);
  }

  /** Accepted events of one channel, as `name` or `name user_id` (a non-string id shows as JSON). */
  on(channel: string): string[] {
    return this.events
      .filter((e) => e.channel === channel)
      .map((e) => (e.user_id === undefined ? e.name : `${e.name} ${userId(e.user_id)}`));
  }

  waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    return waitUntil(check, timeoutMs, what);
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const expected = createHmac('sha256', this.secret).update(raw).digest();
    const given = Buffer.from(String(req.headers['x-pusher-signature'] ?? ''), 'hex');
    const request: ReceivedRequest = {
      key: req.headers['x-pusher-key'] as string | undefined,
      signed: given.length === expected.length && timingSafeEqual(given, expected),
      body: JSON.parse(raw.toString('utf8')) as ReceivedRequest['body'],
      headers: req.headers,
      status: 0,
    };
    request.status = request.signed ? this.answer(request) : 401;
    this.requests.push(request);
    res.writeHead(request.status, { 'Content-Type': 'text/plain' }).end(request.status < 300 ? 'ok' : 'no');
  }
}

/** Pusher's `user_id` is a string; anything else shows as JSON, so a spec sees the difference. */
function userId(id: unknown): string {
  return typeof id === 'string' ? id : JSON.stringify(id);
}
