/**
 * Written against ws 8.21.3 and engine.io 6.6.12 (see WRITTEN_AGAINST in ./written-against.ts).
 *
 * Internals read (see `Connection` below):
 * - engine.io: `conn.writeBuffer` (packets `{type, data?}` waiting for the transport; `flush`
 *   hands the whole array over and starts a new one, `onClose` empties it), `conn.transport.name`
 *   and `.socket` (the `ws` WebSocket on the websocket transport), `conn.close(discard)`, which
 *   closes at once, without waiting for the buffer to drain, when `discard` is true;
 * - ws: `WebSocket#bufferedAmount` (public: what the `net.Socket` holds plus the sender's queue)
 *   and `WebSocket#terminate()` (public: destroys the TCP socket).
 *
 * Contract: ./buffered-bytes.contract.test.ts.
 */

/** What is read of engine.io's socket (`socket.conn`) here. */
export interface Connection {
  readyState: string;
  writeBuffer?: { data?: unknown }[];
  transport: { name: string; socket?: { bufferedAmount?: number; terminate?: () => void } };
  close(discard?: boolean): void;
}

/** What was counted of one write buffer (an array engine.io only appends to until it replaces it). */
interface Counted {
  packets: number;
  bytes: number;
}

const counted = new WeakMap<object, Counted>();

/**
 * Bytes of engine.io's write buffer, approximately: the length of each packet's data (its string
 * length, or a buffer's byte length) plus one for the packet type. Counted incrementally, each
 * packet once, so calling this after every write costs O(1) on average.
 */
export function writeBufferBytes(buffer: readonly { data?: unknown }[] | undefined): number {
  if (!buffer || buffer.length === 0) return 0;
  let entry = counted.get(buffer);
  if (!entry || entry.packets > buffer.length) {
    entry = { packets: 0, bytes: 0 };
    counted.set(buffer, entry);
  }
  for (let i = entry.packets; i < buffer.length; i++) entry.bytes += packetBytes(buffer[i]);
  entry.packets = buffer.length;
  return entry.bytes;
}

/** Approximate size of one engine.io packet (or of its `data`). */
export function packetBytes(packet: { data?: unknown } | undefined): number {
  const data = packet?.data;
  if (typeof data === 'string') return 1 + data.length;
  if (data instanceof ArrayBuffer) return 1 + data.byteLength;
  if (ArrayBuffer.isView(data)) return 1 + data.byteLength;
  return 1;
}

/**
 * Bytes queued for one connection and not yet written to the network: engine.io's write buffer,
 * and on the WebSocket transport what `ws` holds (its sender's queue and the TCP socket's
 * writable buffer). What the kernel already holds is out of sight (and outside the heap).
 */
export function bufferedBytes(conn: Connection): number {
  return writeBufferBytes(conn.writeBuffer) + (conn.transport.socket?.bufferedAmount ?? 0);
}

/**
 * Closes a connection at once: engine.io discards its buffer and closes (`readyState` is `closed`
 * when this returns, so nothing more is queued, and socket.io sees the disconnect), and a
 * WebSocket's TCP socket is destroyed rather than closed politely (a close frame would wait
 * behind everything the client never read).
 */
export function closeAtOnce(conn: Connection): void {
  const webSocket = conn.transport.socket;
  conn.close(true);
  webSocket?.terminate?.();
}
