import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger, type ArgumentsHost } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io';
import { Redis } from 'ioredis';
import { startRedis, type TestRedis } from '../../test/support/redis-server.js';
import { ChannelAuthorizer, type AuthRequest, type AuthResult } from '../auth/channel-authorizer.js';
import { channelRoom } from '../channels/channel-room.js';
import { RedisPresenceStore } from '../channels/redis-presence.store.js';
import { ConfigModule } from '../config/config.module.js';
import { loadConfig } from '../config/load-config.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { RecoveryModule } from '../recovery/recovery.module.js';
import { RecoveryLog, type SessionState } from '../recovery/recovery-log.js';
import { RecoverySessions } from '../recovery/recovery-sessions.js';
import { ChannelRequestPipe } from './channel-request.pipe.js';
import { InvalidClientMessage } from './client-errors.js';
import { EchoGateway } from './echo.gateway.js';
import { GatewayModule } from './gateway.module.js';
import { WsErrorFilter } from './ws-error.filter.js';

/** An authorizer whose answers the test decides, at once or when it releases them. */
class ScriptedAuthorizer extends ChannelAuthorizer {
  readonly calls: AuthRequest[] = [];
  answer: (request: AuthRequest) => AuthResult | Promise<AuthResult> = () => allowed();
  private readonly held: (() => void)[] = [];

  authorize(request: AuthRequest): Promise<AuthResult> {
    this.calls.push(request);
    return Promise.resolve(this.answer(request));
  }

  /** From now on, answers wait for `release()`. */
  hold(): void {
    const answer = this.answer;
    this.answer = (request) => new Promise<void>((resolve) => this.held.push(resolve)).then(() => answer(request));
  }

  release(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }
}

function allowed(channelData?: unknown): AuthResult {
  return { outcome: 'allowed', status: 200, channelData };
}

/** Sockets of one in-memory "server": rooms, `to(room)` reaching the others, everything received recorded. */
class FakeServer {
  readonly rooms = new Map<string, Set<FakeSocket>>();
  private count = 0;

  socket(): FakeSocket {
    return new FakeSocket(`socket-${++this.count}`, this);
  }

  /** The sockets in a channel's room (`channelRoom`: `presence-resubscribe` could be a socket id). */
  in(channel: string): string[] {
    return [...(this.rooms.get(channelRoom(channel)) ?? [])].map((socket) => socket.id);
  }
}

class FakeSocket {
  connected = true;
  /** What socket.io sets on a restored socket. */
  recovered = false;
  /** The session id the recovery handshake gives Engine.IO 4 sockets. */
  pid?: string;
  readonly handshake = { headers: { cookie: 'session=1' }, auth: {} };
  readonly conn = { protocol: 4 };
  readonly received: unknown[][] = [];

  constructor(
    readonly id: string,
    private readonly server: FakeServer,
  ) {}

  join(room: string): void {
    if (!this.server.rooms.has(room)) this.server.rooms.set(room, new Set());
    this.server.rooms.get(room)!.add(this);
  }

  /**
   * What socket.io does before its 'disconnect' event: the socket leaves every room and is no
   * longer connected (the gateway then leaves only what the fake's rooms cannot know: presence).
   * `join` stays real, so a late join by the gateway would show.
   */
  close(): void {
    for (const members of this.server.rooms.values()) members.delete(this);
    this.connected = false;
  }

  /** Rooms the gateway asked this socket to leave. */
  readonly left: string[] = [];

  /** Resolves a turn later, as a leave through a remote adapter would. */
  async leave(room: string): Promise<void> {
    this.left.push(room);
    await new Promise((resolve) => setImmediate(resolve));
    this.server.rooms.get(room)?.delete(this);
  }

  emit(event: string, ...args: unknown[]): boolean {
    this.received.push([event, ...args]);
    return true;
  }

  to(room: string): { emit: (event: string, ...args: unknown[]) => boolean } {
    return {
      emit: (event, ...args) => {
        for (const socket of this.server.rooms.get(room) ?? []) if (socket !== this) socket.emit(event, ...args);
        return true;
      },
    };
  }

  /** Arguments of every `event` this socket received. */
  events(event: string): unknown[][] {
    return this.received.filter(([name]) => name === event).map(([, ...args]) => args);
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Retries `check` until it passes, for work the gateway starts without awaiting (disconnect). */
async function eventually(check: () => Promise<void> | void, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
const user = (id: number): { user_id: number; user_info: { name: string } } => ({
  user_id: id,
  user_info: { name: `user ${id}` },
});

/**
 * The gateway's module with its real providers on `redisUrl`, the app's authorizer replaced by
 * `authorizer`. Recovery is off: these sockets are fakes without a socket.io handshake, so no
 * session could be saved for them anyway.
 */
async function gatewayModule(
  redisUrl: string,
  authorizer: ScriptedAuthorizer,
  env: Record<string, string>,
): Promise<TestingModule> {
  const { config } = loadConfig({
    env: { REDIS_URL: redisUrl, ECHO_RELAY_RECOVERY: 'false', ...env },
    cwd: mkdtempSync(join(tmpdir(), 'echo-relay-gateway-')),
  });
  return Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), MetricsModule, RecoveryModule, GatewayModule],
    providers: [WsErrorFilter],
  })
    .overrideProvider(ChannelAuthorizer)
    .useValue(authorizer)
    .compile();
}

describe('EchoGateway subscribe, unsubscribe and whispers', () => {
  let redis: TestRedis;
  let moduleRef: TestingModule;
  let gateway: EchoGateway;
  let filter: WsErrorFilter;
  let store: RedisPresenceStore;
  let metrics: RelayMetrics;
  let authorizer: ScriptedAuthorizer;
  let server: FakeServer;

  /** What Nest does with a message: the handler, then its error through the gateway's filter. */
  async function send(socket: FakeSocket, event: 'subscribe' | 'unsubscribe', channel: string): Promise<void> {
    const request = { channel, headers: { Authorization: 'Bearer t' } };
    const client = socket as unknown as Socket;
    try {
      await (event === 'subscribe' ? gateway.subscribe(client, request) : gateway.unsubscribe(client, request));
    } catch (err) {
      filter.catch(err, { switchToWs: () => ({ getClient: () => socket }) } as unknown as ArgumentsHost);
    }
  }

  function whisper(socket: FakeSocket, channel: string, event = 'client-typing'): void {
    gateway.whisper(socket as unknown as Socket, { channel, event, data: { typing: true } });
  }

  async function whisperCount(result: string): Promise<number> {
    const { values } = await metrics.whispers.get();
    return values.find((value) => value.labels.result === result)?.value ?? 0;
  }

  beforeAll(async () => {
    Logger.overrideLogger(false);
    redis = await startRedis();
    authorizer = new ScriptedAuthorizer();
    moduleRef = await gatewayModule(redis.url, authorizer, { ECHO_RELAY_WHISPER_RATE: '3' });
    gateway = moduleRef.get(EchoGateway);
    filter = moduleRef.get(WsErrorFilter);
    store = moduleRef.get(RedisPresenceStore);
    metrics = moduleRef.get(RelayMetrics);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await redis?.close();
  });

  beforeEach(() => {
    server = new FakeServer();
    authorizer.calls.length = 0;
    authorizer.answer = () => allowed();
  });

  afterEach(() => authorizer.release());

  it('joins a public channel without asking the app', async () => {
    const socket = server.socket();
    await send(socket, 'subscribe', 'orders');
    expect(server.in('orders')).toEqual([socket.id]);
    expect(authorizer.calls).toEqual([]);
  });

  it('joins a private channel when the app says yes, with what the app needs to decide', async () => {
    const socket = server.socket();
    await send(socket, 'subscribe', 'private-orders.1');
    expect(server.in('private-orders.1')).toEqual([socket.id]);
    expect(authorizer.calls).toHaveLength(1);
    expect(authorizer.calls[0]).toMatchObject({
      channel: 'private-orders.1',
      type: 'private',
      socketId: socket.id,
      headers: { Authorization: 'Bearer t' },
      handshakeHeaders: { cookie: 'session=1' },
    });
  });

  it('tells the client subscription_error with the status when the app says no, and joins nothing', async () => {
    authorizer.answer = () => ({ outcome: 'denied', status: 403, reason: 'no' });
    const socket = server.socket();
    await send(socket, 'subscribe', 'private-orders.2');
    expect(socket.received).toEqual([['subscription_error', 'private-orders.2', 403]]);
    expect(server.in('private-orders.2')).toEqual([]);
  });

  it('asks once for repeated subscribes, and joins once', async () => {
    authorizer.hold();
    const socket = server.socket();
    const first = send(socket, 'subscribe', 'private-a');
    const second = send(socket, 'subscribe', 'private-a');
    await tick();
    authorizer.release();
    await Promise.all([first, second]);
    await send(socket, 'subscribe', 'private-a');
    expect(authorizer.calls.map((call) => call.channel)).toEqual(['private-a']);
    expect(server.in('private-a')).toEqual([socket.id]);
    expect(socket.received).toEqual([]);
  });

  it('joins nothing when the socket unsubscribes or disconnects while the app is asked', async () => {
    authorizer.hold();
    const unsubscribing = server.socket();
    const disconnecting = server.socket();
    const subscribes = [send(unsubscribing, 'subscribe', 'private-b'), send(disconnecting, 'subscribe', 'private-b')];
    await tick();
    await send(unsubscribing, 'unsubscribe', 'private-b');
    disconnecting.close();
    gateway.disconnected(disconnecting as unknown as Socket);
    authorizer.release();
    await Promise.all(subscribes);
    expect(authorizer.calls).toHaveLength(2);
    expect(server.in('private-b')).toEqual([]);
    expect([...unsubscribing.received, ...disconnecting.received]).toEqual([]);
  });

  it('keeps a subscribe sent right after an unsubscribe of the same channel', async () => {
    const socket = server.socket();
    authorizer.answer = () => allowed(user(7));
    await send(socket, 'subscribe', 'presence-resubscribe');
    const unsubscribe = send(socket, 'unsubscribe', 'presence-resubscribe');
    const subscribe = send(socket, 'subscribe', 'presence-resubscribe');
    await Promise.all([unsubscribe, subscribe]);
    expect(server.in('presence-resubscribe')).toEqual([socket.id]);
    expect(await store.members('presence-resubscribe')).toEqual([user(7)]);
    expect(socket.events('presence:subscribed')).toEqual([
      ['presence-resubscribe', [user(7)]],
      ['presence-resubscribe', [user(7)]],
    ]);
  });

  it('lets the last of unsubscribe, subscribe, unsubscribe win, without asking the app again', async () => {
    const socket = server.socket();
    for (const channel of ['flip', 'private-flip']) {
      await send(socket, 'subscribe', channel);
      await Promise.all([
        send(socket, 'unsubscribe', channel),
        send(socket, 'subscribe', channel),
        send(socket, 'unsubscribe', channel),
      ]);
      expect(server.in(channel)).toEqual([]);
    }
    expect(authorizer.calls).toHaveLength(1);
  });

  it('removes the presence members of a disconnected socket, and leaves its rooms to socket.io', async () => {
    const socket = server.socket();
    const other = server.socket();
    authorizer.answer = (request) =>
      allowed(request.type === 'presence' ? user(request.socketId === socket.id ? 1 : 2) : undefined);
    for (const channel of ['orders', 'private-c', 'presence-c']) await send(socket, 'subscribe', channel);
    await send(other, 'subscribe', 'presence-c');
    socket.close();
    gateway.disconnected(socket as unknown as Socket);
    await eventually(async () => {
      for (const channel of ['orders', 'private-c']) expect(server.in(channel)).toEqual([]);
      expect(server.in('presence-c')).toEqual([other.id]);
      expect(await store.members('presence-c')).toEqual([user(2)]);
    });
    // Its id may be a recovered socket's by now: a leave would take that socket out of its rooms.
    expect(socket.left).toEqual([]);
  });

  it('sends presence:subscribed with every member, and presence:joining to the others on a first socket only', async () => {
    const [alice, bob, bobAgain] = [server.socket(), server.socket(), server.socket()];
    authorizer.answer = (request) => allowed(user(request.socketId === alice.id ? 1 : 2));
    await send(alice, 'subscribe', 'presence-room');
    await send(bob, 'subscribe', 'presence-room');
    await send(bobAgain, 'subscribe', 'presence-room');
    expect(alice.events('presence:subscribed')).toEqual([['presence-room', [user(1)]]]);
    expect(bob.events('presence:subscribed')).toEqual([['presence-room', [user(1), user(2)]]]);
    expect(alice.events('presence:joining')).toEqual([['presence-room', user(2)]]);
    expect(bob.events('presence:joining')).toEqual([]);
  });

  it('gives every socket of a crowd that subscribes at once a view with everyone in it', async () => {
    const sockets = Array.from({ length: 5 }, () => server.socket());
    authorizer.answer = (request) => allowed(user(sockets.findIndex((socket) => socket.id === request.socketId)));
    await Promise.all(sockets.map((socket) => send(socket, 'subscribe', 'presence-crowd')));
    for (const socket of sockets) {
      // Echo's view: here() replaces the list, joining adds to it.
      const view = new Set<number>();
      for (const [event, , payload] of socket.received) {
        if (event === 'presence:subscribed') {
          view.clear();
          for (const member of payload as { user_id: number }[]) view.add(member.user_id);
        } else if (event === 'presence:joining') view.add((payload as { user_id: number }).user_id);
      }
      expect([...view].sort()).toEqual([0, 1, 2, 3, 4]);
    }
  });

  it('relays a whisper from a member to the other members', async () => {
    const [sender, listener, outsider] = [server.socket(), server.socket(), server.socket()];
    for (const socket of [sender, listener]) await send(socket, 'subscribe', 'private-chat');
    await send(outsider, 'subscribe', 'orders');
    whisper(sender, 'private-chat');
    expect(listener.received).toEqual([['client-typing', 'private-chat', { typing: true }]]);
    expect(sender.received).toEqual([]);
    expect(outsider.received).toEqual([]);
  });

  it('drops whispers of non-members, on public channels and for other event names', async () => {
    const [member, stranger] = [server.socket(), server.socket()];
    await send(member, 'subscribe', 'private-quiet');
    await send(member, 'subscribe', 'orders');
    await send(stranger, 'subscribe', 'orders');
    const refusedBefore = await whisperCount('refused');
    whisper(stranger, 'private-quiet');
    whisper(stranger, 'orders');
    whisper(member, 'private-quiet', 'typing');
    expect(member.received).toEqual([]);
    expect(stranger.received).toEqual([]);
    expect((await whisperCount('refused')) - refusedBefore).toBe(3);
  });

  it('drops whispers beyond the rate of the socket', async () => {
    const [sender, listener] = [server.socket(), server.socket()];
    for (const socket of [sender, listener]) await send(socket, 'subscribe', 'private-fast');
    const limitedBefore = await whisperCount('rate_limited');
    for (let i = 0; i < 5; i++) whisper(sender, 'private-fast');
    expect(listener.received).toHaveLength(3);
    expect((await whisperCount('rate_limited')) - limitedBefore).toBe(2);
  });

  it('ignores a malformed subscribe, counting it', async () => {
    const pipe = new ChannelRequestPipe();
    expect(() => pipe.transform({ channel: 42 })).toThrow(InvalidClientMessage);
    expect(() => pipe.transform('orders')).toThrow(InvalidClientMessage);
    expect(pipe.transform({ channel: 'orders', auth: { headers: { 'X-Id': 3, bad: {} } } })).toEqual({
      channel: 'orders',
      headers: { 'X-Id': '3' },
    });
    const socket = server.socket();
    filter.catch(new InvalidClientMessage('subscribe', 'missing or invalid channel'), {
      switchToWs: () => ({ getClient: () => socket }),
    } as unknown as ArgumentsHost);
    const { values } = await metrics.messagesDropped.get();
    expect(values.find((value) => value.labels.reason === 'invalid_client_message')?.value).toBe(1);
    expect(socket.received).toEqual([]);
  });
});

describe('EchoGateway limits of one socket', () => {
  let redis: TestRedis;
  let moduleRef: TestingModule;
  let gateway: EchoGateway;
  let filter: WsErrorFilter;
  let metrics: RelayMetrics;
  let authorizer: ScriptedAuthorizer;
  let server: FakeServer;

  async function send(socket: FakeSocket, event: 'subscribe' | 'unsubscribe', channel: string): Promise<void> {
    const request = { channel, headers: {} };
    const client = socket as unknown as Socket;
    try {
      await (event === 'subscribe' ? gateway.subscribe(client, request) : gateway.unsubscribe(client, request));
    } catch (err) {
      filter.catch(err, { switchToWs: () => ({ getClient: () => socket }) } as unknown as ArgumentsHost);
    }
  }

  async function gauge(limit: string): Promise<number> {
    const { values } = await metrics.authWaiting.get();
    return values.find((value) => value.labels.limit === limit)?.value ?? 0;
  }

  async function refused(): Promise<number> {
    const { values } = await metrics.subscriptionsRefused.get();
    return values.find((value) => value.labels.reason === 'max_channels')?.value ?? 0;
  }

  /** Releases held answers until `check` passes: answers held after the first release are released too. */
  async function releaseUntil(check: () => void): Promise<void> {
    await eventually(() => {
      authorizer.release();
      check();
    });
  }

  beforeAll(async () => {
    Logger.overrideLogger(false);
    redis = await startRedis();
    authorizer = new ScriptedAuthorizer();
    moduleRef = await gatewayModule(redis.url, authorizer, {
      ECHO_RELAY_MAX_PENDING_AUTH_PER_SOCKET: '2',
      ECHO_RELAY_MAX_CHANNELS_PER_SOCKET: '4',
    });
    gateway = moduleRef.get(EchoGateway);
    filter = moduleRef.get(WsErrorFilter);
    metrics = moduleRef.get(RelayMetrics);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await redis?.close();
  });

  beforeEach(() => {
    server = new FakeServer();
    authorizer.calls.length = 0;
    authorizer.answer = () => allowed();
  });

  afterEach(() => authorizer.release());

  it('keeps at most maxPendingAuthPerSocket auth calls in flight; the others wait and go in order', async () => {
    authorizer.hold();
    const socket = server.socket();
    const other = server.socket();
    const channels = ['private-q.0', 'private-q.1', 'private-q.2', 'private-q.3'];
    const subscribes = channels.map((channel) => send(socket, 'subscribe', channel));
    const others = send(other, 'subscribe', 'private-q.0');
    await eventually(() => expect(authorizer.calls).toHaveLength(3));
    for (let i = 0; i < 5; i++) await tick();
    // Two of the socket's own, and the other socket's (the cap is per socket).
    expect(authorizer.calls.map((call) => [call.socketId, call.channel])).toEqual([
      [socket.id, 'private-q.0'],
      [socket.id, 'private-q.1'],
      [other.id, 'private-q.0'],
    ]);
    expect(await gauge('socket')).toBe(2);
    await releaseUntil(() => expect(authorizer.calls).toHaveLength(5));
    await Promise.all([...subscribes, others]);
    expect(authorizer.calls.filter((call) => call.socketId === socket.id).map((call) => call.channel)).toEqual(
      channels,
    );
    for (const channel of channels) expect(server.in(channel)).toContain(socket.id);
    expect(socket.received).toEqual([]);
    expect(await gauge('socket')).toBe(0);
  });

  it('makes no auth call for a waiting subscribe taken back by an unsubscribe or a disconnect', async () => {
    authorizer.hold();
    const unsubscribing = server.socket();
    const disconnecting = server.socket();
    const subscribes = ['private-w.0', 'private-w.1', 'private-w.2'].flatMap((channel) => [
      send(unsubscribing, 'subscribe', channel),
      send(disconnecting, 'subscribe', channel),
    ]);
    await eventually(() => expect(authorizer.calls).toHaveLength(4));
    expect(await gauge('socket')).toBe(2);
    await send(unsubscribing, 'unsubscribe', 'private-w.2');
    disconnecting.close();
    gateway.disconnected(disconnecting as unknown as Socket);
    expect(await gauge('socket')).toBe(0);
    authorizer.release();
    await Promise.all(subscribes);
    for (let i = 0; i < 5; i++) await tick();
    expect(authorizer.calls.map((call) => call.channel).sort()).toEqual([
      'private-w.0',
      'private-w.0',
      'private-w.1',
      'private-w.1',
    ]);
    expect(server.in('private-w.0')).toEqual([unsubscribing.id]);
    expect(server.in('private-w.2')).toEqual([]);
    expect(server.in('private-w.1')).toEqual([unsubscribing.id]);
  });

  it('refuses a channel past maxChannelsPerSocket (joined or in flight) with subscription_error 429, counted', async () => {
    const socket = server.socket();
    const before = await refused();
    for (const channel of ['c.0', 'c.1', 'c.2']) await send(socket, 'subscribe', channel);
    authorizer.hold();
    const inFlight = send(socket, 'subscribe', 'private-c.3');
    await send(socket, 'subscribe', 'c.4');
    await send(socket, 'subscribe', 'private-c.5');
    // Subscribing again to a channel it has is not a new channel.
    await send(socket, 'subscribe', 'c.0');
    expect(socket.received).toEqual([
      ['subscription_error', 'c.4', 429],
      ['subscription_error', 'private-c.5', 429],
    ]);
    expect((await refused()) - before).toBe(2);
    authorizer.release();
    await inFlight;
    expect(server.in('private-c.3')).toEqual([socket.id]);
    expect(server.in('c.4')).toEqual([]);
    expect(authorizer.calls.map((call) => call.channel)).toEqual(['private-c.3']);
    await send(socket, 'unsubscribe', 'c.1');
    await send(socket, 'subscribe', 'c.4');
    expect(server.in('c.4')).toEqual([socket.id]);
    expect(socket.received).toHaveLength(2);
  });
});

describe('EchoGateway with recovery on', () => {
  let redis: TestRedis;
  let moduleRef: TestingModule;
  let gateway: EchoGateway;
  let store: RedisPresenceStore;
  let history: RecoveryLog;
  let sessions: RecoverySessions;
  let authorizer: ScriptedAuthorizer;
  let server: FakeServer;
  let admin: Redis;

  async function send(socket: FakeSocket, event: 'subscribe' | 'unsubscribe', channel: string): Promise<void> {
    const request = { channel, headers: {} };
    const client = socket as unknown as Socket;
    await (event === 'subscribe' ? gateway.subscribe(client, request) : gateway.unsubscribe(client, request));
  }

  /**
   * What the recovery handshake does for an Engine.IO 4 socket before the gateway sees it (these
   * fakes have no handshake): a pid, and `RecoverySessions` told of the socket (and, for a
   * restored one, of the session it restored).
   */
  function handshake(socket: FakeSocket, pid: string, restored?: SessionState): void {
    socket.pid = pid;
    const internals = sessions as unknown as {
      restoring: Map<string, SessionState>;
      created(socket: unknown): void;
    };
    if (restored) {
      socket.recovered = true;
      internals.restoring.set(socket.id, restored);
      // socket.io joins the restored rooms itself.
      for (const channel of restored.channels) socket.join(channel);
    }
    internals.created(socket);
  }

  async function stored(pid: string): Promise<{ owner: string; state: SessionState } | undefined> {
    const value = await admin.get(`echo-relay:{recovery}:session:${pid}`);
    if (value === null) return undefined;
    const newline = value.indexOf('\n');
    return { owner: value.slice(0, newline), state: JSON.parse(value.slice(newline + 1)) as SessionState };
  }

  beforeAll(async () => {
    Logger.overrideLogger(false);
    redis = await startRedis();
    admin = new Redis({ host: redis.host, port: redis.port });
    authorizer = new ScriptedAuthorizer();
    moduleRef = await gatewayModule(redis.url, authorizer, {
      ECHO_RELAY_RECOVERY: 'true',
      ECHO_RELAY_RECOVERY_WINDOW_MS: '60000',
    });
    gateway = moduleRef.get(EchoGateway);
    store = moduleRef.get(RedisPresenceStore);
    history = moduleRef.get(RecoveryLog);
    sessions = moduleRef.get(RecoverySessions);
  });

  afterAll(async () => {
    admin.disconnect();
    await moduleRef?.close();
    await redis?.close();
  });

  beforeEach(() => {
    server = new FakeServer();
    authorizer.calls.length = 0;
    authorizer.answer = (request) => allowed(request.type === 'presence' ? user(1) : undefined);
  });

  it('writes the session when the channels change and when the socket drops, presence member included', async () => {
    const socket = server.socket();
    handshake(socket, 'pid-write');
    await send(socket, 'subscribe', 'orders');
    await send(socket, 'subscribe', 'presence-write');
    await eventually(async () =>
      expect((await stored('pid-write'))?.state).toEqual({
        sid: socket.id,
        channels: ['orders', 'presence-write'],
        members: { 'presence-write': user(1) },
        // No join positions: this module's feed has not read the history (no position yet).
        since: {},
      }),
    );
    await send(socket, 'unsubscribe', 'orders');
    await eventually(async () => expect((await stored('pid-write'))?.state.channels).toEqual(['presence-write']));

    socket.close();
    gateway.disconnected(socket as unknown as Socket, 'transport close');
    await eventually(async () => {
      // Presence is left at once (presence.leaveGraceMs is 0); the session keeps the member for a restore.
      expect(await store.members('presence-write')).toEqual([]);
      expect(await admin.pttl('echo-relay:{recovery}:session:pid-write')).toBeLessThanOrEqual(60_000);
    });
    const restore = await history.restore('pid-write', '0-0');
    expect(restore).toMatchObject({
      ok: true,
      session: { sid: socket.id, channels: ['presence-write'], members: { 'presence-write': user(1) } },
    });
  });

  it('does not keep the session of a socket that left on purpose (client namespace disconnect) for a restore', async () => {
    const socket = server.socket();
    handshake(socket, 'pid-leave');
    await send(socket, 'subscribe', 'orders');
    await eventually(async () => expect(await stored('pid-leave')).toBeDefined());
    socket.close();
    gateway.disconnected(socket as unknown as Socket, 'client namespace disconnect');
    // The delete is sent on the log's connection before a later command there.
    await history.newest(1);
    // Deleted, not kept for the window: no client comes back for it.
    expect(await admin.exists('echo-relay:{recovery}:session:pid-leave')).toBe(0);
  });

  it('gives a recovered socket its channels without asking the app, its presence member back and the member list', async () => {
    const other = server.socket();
    authorizer.answer = () => allowed(user(2));
    await send(other, 'subscribe', 'presence-back');
    authorizer.calls.length = 0;

    const recovered = server.socket();
    handshake(recovered, 'pid-back', {
      sid: recovered.id,
      channels: ['private-back', 'presence-back'],
      members: { 'presence-back': user(1) },
    });
    gateway.connected(recovered as unknown as Socket);

    await eventually(async () => {
      expect(recovered.events('presence:subscribed')).toEqual([['presence-back', [user(2), user(1)]]]);
      expect(await store.members('presence-back')).toEqual([user(2), user(1)]);
    });
    expect(authorizer.calls).toEqual([]);
    // Its channels are this node's again: whispers pass, an unsubscribe leaves the room.
    gateway.whisper(recovered as unknown as Socket, { channel: 'presence-back', event: 'client-typing', data: {} });
    expect(other.events('client-typing')).toEqual([['presence-back', {}]]);
    await send(recovered, 'unsubscribe', 'private-back');
    expect(recovered.left).toEqual(['private-back']);
    // The new connection owns the session now.
    await eventually(async () =>
      expect((await stored('pid-back'))?.state).toEqual({
        sid: recovered.id,
        channels: ['presence-back'],
        members: { 'presence-back': user(1) },
        since: {},
      }),
    );
  });
});
