import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * A `ws` server whose accepted upgrades send their first answer in one write: the `101 Switching
 * Protocols` response together with the first message of the connection (engine.io's open
 * packet, the Pusher endpoint's `connection_established`). With `ws` as it comes each leaves in a
 * system call of its own, on every connect of a reconnect storm.
 *
 * `handleUpgrade` corks the socket before `ws` writes the 101 and leaves it corked until the event
 * loop's current poll phase is over (`setImmediate`): after everything the upgrade runs in that
 * tick, its promises and `nextTick`s included. Upgrades that arrive together are uncorked together.
 * A refusal by `ws` itself (a bad `Sec-WebSocket-Key`) ends the socket, which flushes it; refusals
 * before the hand-over to `ws` (engine.io's 400, a connection limit's 503) never cork it.
 *
 * engine.io takes it as its `wsEngine` (a public option); the Pusher endpoint is one.
 */
export class CorkedWebSocketServer extends WebSocketServer {
  override handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    upgradeHead: Buffer,
    callback: (client: WebSocket, request: IncomingMessage) => void,
  ): void {
    socket.cork();
    if (corked.push(socket) === 1) setImmediate(uncorkAll);
    super.handleUpgrade(request, socket, upgradeHead, callback);
  }
}

let corked: Duplex[] = [];

function uncorkAll(): void {
  const sockets = corked;
  corked = [];
  for (const socket of sockets) socket.uncork();
}
