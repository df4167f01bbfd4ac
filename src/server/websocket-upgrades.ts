import type { IncomingMessage, Server } from 'node:http';

/** Node >= 24.9's hook deciding which requests with an `Upgrade` header become 'upgrade' events. */
type UpgradeDecider = Server & { shouldUpgradeCallback?: (req: IncomingMessage) => boolean };

/** Whether `req` asks for a WebSocket (`Upgrade: websocket`, in any case). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return req.headers.upgrade?.trim().toLowerCase() === 'websocket';
}

/**
 * Hands only WebSocket upgrades to the server's 'upgrade' listeners (engine.io, the Pusher
 * endpoint); any other `Upgrade` header (h2c from `curl --http2` or an HTTP/2-minded client over
 * http://) is ignored, as HTTP allows, and the request is answered like one without it. Node's
 * default makes every request carrying the header an upgrade once a listener exists, and engine.io
 * destroys the ones it does not serve: an empty reply on every route. A server without 'upgrade'
 * listeners (the `api.port` listener) keeps answering WebSocket upgrades as plain requests.
 */
export function upgradeWebSocketsOnly(server: Server): void {
  (server as UpgradeDecider).shouldUpgradeCallback = (req) =>
    isWebSocketUpgrade(req) && server.listenerCount('upgrade') > 0;
}
