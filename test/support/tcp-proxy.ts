import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a free port of 127.0.0.1 in front of one echo-relay node, standing in for the
 * network between a browser and the server: `cut()` breaks every connection the way a lost Wi-Fi
 * or a NAT timeout does (a reset on both sides, no socket.io disconnect packet, no clean close),
 * `refuse()` keeps reconnecting clients out while a spec publishes into the gap, and `target`
 * re-points new connections at another node (a load balancer moving a client after its node died).
 */
export class TcpProxy {
  /** Client and upstream sockets of every proxied connection still open. */
  private readonly open = new Set<Socket>();
  private refusing = false;
  /** Connections piped through to a node so far (refused and failed ones not counted). */
  established = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    /** The node's port new connections go to; change it to re-point the proxy. */
    public target: number,
  ) {}

  /** Starts a proxy forwarding to `127.0.0.1:<target>`. */
  static async start(target: number): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new TcpProxy(server, (server.address() as { port: number }).port, target);
    server.on('connection', (client) => proxy.handle(client));
    return proxy;
  }

  /** What a client connects to: `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resets every proxied connection on both sides at once: a transport drop, not a socket.io disconnect. */
  cut(): void {
    for (const socket of this.open) reset(socket);
    this.open.clear();
  }

  /** From now on resets every new connection as soon as it arrives (the network is still down). */
  refuse(): void {
    this.refusing = true;
  }

  /** Lets new connections through again (the network is back). */
  accept(): void {
    this.refusing = false;
  }

  /** `cut()` and `refuse()`: the client is offline until `accept()`. */
  down(): void {
    this.refuse();
    this.cut();
  }

  async close(): Promise<void> {
    this.refuse();
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(client: Socket): void {
    client.on('error', () => undefined);
    if (this.refusing) return reset(client);
    // Held until the upstream is connected; pipe() resumes it, so no early bytes are lost.
    client.pause();
    this.open.add(client);
    const upstream = connect(this.target, '127.0.0.1');
    this.open.add(upstream);
    upstream.on('error', () => undefined);
    upstream.once('connect', () => {
      if (!this.open.has(client)) return reset(upstream);
      this.established++;
      client.pipe(upstream).pipe(client);
    });
    // A clean end travels through (pipe() ends the other side); a reset or a failed connect resets it.
    client.once('close', (hadError) => this.closed(client, upstream, hadError));
    upstream.once('close', (hadError) => this.closed(upstream, client, hadError));
  }

  private closed(socket: Socket, other: Socket, hadError: boolean): void {
    this.open.delete(socket);
    if (hadError || other.pending) reset(other);
    else other.end();
  }
}

function reset(socket: Socket): void {
  if (socket.destroyed) return;
  // Node 26 leaves the TCP handle of a socket reset after either side ended (or before it
  // connected) registered: the process then hangs after its 'exit' event (a Jest worker is killed
  // after 3 s). Such a socket is only destroyed; there is no connection left to reset.
  if (socket.readableEnded || socket.writableEnded || socket.connecting) {
    socket.destroy();
    return;
  }
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
