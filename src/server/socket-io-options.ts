/**
 * Option names of the old file's `socketio` block that socket.io reads: the server's own
 * (`ServerOptions` of socket.io 4.8.3, `dist/index.d.ts`), its engine's (engine.io 6.6,
 * `build/server.d.ts`: `ServerOptions` and `AttachOptions`), and socket.io 2's that
 * laravel-echo-server files carry (`origins`, `handlePreflightRequest`, `cookiePath`,
 * `cookieHttpOnly`). A near miss of one is a config error; any other key passes to socket.io with a
 * warning, as the old server passed the block on unread.
 */
export const SOCKET_IO_OPTIONS: readonly string[] = [
  // socket.io
  'path',
  'serveClient',
  'adapter',
  'parser',
  'connectTimeout',
  'connectionStateRecovery',
  'cleanupEmptyChildNamespaces',
  // engine.io
  'pingTimeout',
  'pingInterval',
  'upgradeTimeout',
  'maxHttpBufferSize',
  'allowRequest',
  'transports',
  'allowUpgrades',
  'perMessageDeflate',
  'httpCompression',
  'wsEngine',
  'initialPacket',
  'cookie',
  'cors',
  'allowEIO3',
  'destroyUpgrade',
  'destroyUpgradeTimeout',
  'addTrailingSlash',
  // socket.io 2
  'origins',
  'handlePreflightRequest',
  'cookiePath',
  'cookieHttpOnly',
];
