/**
 * Written against socket.io 4.8.3 (see WRITTEN_AGAINST in ./written-against.ts).
 *
 * Internals used: `Namespace#_createSocket(client, auth)` (private, async), which `Namespace#_add`
 * awaits for every connection and which builds the `Socket`; the `Socket` constructor's fourth
 * argument, a previous session `{sid, pid, rooms, data, missedPackets}`: it takes `sid` as its id
 * and `pid`, joins `rooms`, sends each of `missedPackets` as an EVENT packet at once (the client
 * buffers them until the CONNECT that follows) and sets `recovered`; `Socket#pid`, which
 * `_onconnect` sends in the CONNECT reply of an Engine.IO 4 client as `{sid, pid}`; and that `_add`
 * calls `_doConnect` (which puts the socket in `namespace.sockets`) from `process.nextTick`, so no
 * I/O runs between the constructor and the socket becoming reachable.
 *
 * socket.io's own recovery (`connectionStateRecovery`) is not used: it turns every `socket.emit`
 * into an adapter broadcast (with the Redis adapter, a publish to Redis), keeps its session and
 * packets in one process, and persists a session only on disconnect, which a killed node never does.
 *
 * Contract: ./recovery-handshake.contract.test.ts.
 */
import { randomBytes } from 'node:crypto';
import type { Namespace, Socket } from 'socket.io';

/** What a restored socket starts with; `missedPackets` are EVENT argument lists. */
export interface PreviousSession {
  sid: string;
  pid: string;
  rooms: string[];
  data: Record<string, unknown>;
  missedPackets: unknown[][];
}

export interface RecoveryHandshake {
  /**
   * Called for an Engine.IO 4 client that presents a `pid` (a string) and an `offset` that is a
   * string or absent (socket.io-client sends none before its first string-ended event). Resolves
   * to the session to restore, or `undefined` for a fresh connection. Must not reject.
   */
  restore(pid: string, offset: string | undefined): Promise<PreviousSession | undefined>;
  /** Called with every Engine.IO 4 socket created, restored or not, before it is connected. */
  created?(socket: Socket): void;
}

type SocketConstructor = new (nsp: Namespace, client: unknown, auth: unknown, previous?: PreviousSession) => Socket;

interface RecoverableNamespace {
  _createSocket(client: { conn: { protocol: number } }, auth: Record<string, unknown>): Promise<Socket>;
}

/**
 * Makes `namespace` hand out a session id (`pid`) to Engine.IO 4 clients and restore sessions
 * through `handshake`. Engine.IO 3 clients (socket.io-client 2) are created as before.
 * `SocketClass` is socket.io's `Socket` (passed in, so this module does not import a second copy).
 */
export function installRecoveryHandshake(
  namespace: Namespace,
  SocketClass: SocketConstructor,
  handshake: RecoveryHandshake,
): void {
  const nsp = namespace as unknown as RecoverableNamespace;
  const original = nsp._createSocket.bind(namespace);
  nsp._createSocket = async (client, auth) => {
    if (client.conn.protocol !== 4) return original(client, auth);
    const { pid, offset } = auth ?? {};
    let socket: Socket | undefined;
    if (typeof pid === 'string' && (offset === undefined || typeof offset === 'string')) {
      const previous = await handshake.restore(pid, offset);
      if (previous) socket = new SocketClass(namespace, client, auth, previous);
    }
    if (!socket) {
      socket = await original(client, auth);
      (socket as unknown as { pid?: string }).pid = newSessionId();
    }
    handshake.created?.(socket);
    return socket;
  };
}

/** A session id as socket.io makes them: 15 random bytes, base64. */
export function newSessionId(): string {
  if (poolOffset + ID_BYTES > pool.length) {
    // One call into the CSPRNG per POOL_IDS ids instead of one per connection.
    pool = randomBytes(ID_BYTES * POOL_IDS);
    poolOffset = 0;
  }
  const id = pool.toString('base64url', poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return id;
}

const ID_BYTES = 15;
const POOL_IDS = 512;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** The session id a socket was given (Engine.IO 4 with recovery on), if any. */
export function sessionIdOf(socket: Socket): string | undefined {
  return (socket as unknown as { pid?: string }).pid;
}
