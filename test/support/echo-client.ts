import Echo from 'laravel-echo';
import { createRequire } from 'node:module';
import { io } from 'socket.io-client';

/** socket.io-client 2 (Engine.IO 3), as front ends pinned to the old server use it. */
const ioV2 = createRequire(import.meta.url)('socket.io-client-v2') as typeof io;

export type ClientVersion = 2 | 4;
export const CLIENT_VERSIONS: ClientVersion[] = [4, 2];

export type TestEcho = Echo<'socket.io'>;

/** A real Laravel Echo client with the socket.io connector, over socket.io-client 4 or 2. */
export function createEcho(url: string, version: ClientVersion, options: Record<string, unknown> = {}): TestEcho {
  return new Echo({
    broadcaster: 'socket.io',
    client: version === 4 ? io : ioV2,
    host: url,
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    // engine.io-client 3 prefers a global WebSocket, which Node has since 22 and which sends no
    // extraHeaders (Origin, cookies, X-Forwarded-For): the ws package it ships with does.
    ...(version === 2 ? { forceNode: true } : {}),
    ...options,
  } as never);
}

/** The raw socket.io socket behind an Echo instance. */
export function rawSocket(echo: TestEcho): {
  id?: string;
  connected: boolean;
  on(event: string, cb: (...args: unknown[]) => void): void;
  once(event: string, cb: (...args: unknown[]) => void): void;
  emit(event: string, ...args: unknown[]): void;
} {
  return (echo.connector as unknown as { socket: ReturnType<typeof rawSocket> }).socket;
}

/** Resolves when the socket is connected (Echo sends its subscribes on connect). */
export function connected(echo: TestEcho, timeoutMs = 5000): Promise<void> {
  const socket = rawSocket(echo);
  if (socket.connected) return Promise.resolve();
  return withTimeout(
    new Promise((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err instanceof Error ? err : new Error(String(err))));
      socket.once('error', (err) => reject(new Error(String(err))));
    }),
    timeoutMs,
    'connect',
  );
}

/** Collects every event `event` on a public channel, in order. */
export function collect(echo: TestEcho, channel: string, event: string): unknown[] {
  const received: unknown[] = [];
  echo.channel(channel).listen(event, (data: unknown) => received.push(data));
  return received;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Every emission of `event` on the raw socket, as argument lists, in order. */
export function recordEvents(echo: TestEcho, event: string): unknown[][] {
  const seen: unknown[][] = [];
  rawSocket(echo).on(event, (...args) => seen.push(args));
  return seen;
}
