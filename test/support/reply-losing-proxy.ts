import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of one Redis that can lose a reply the way a failover does: `loseNextReply()`
 * lets the next command through to Redis, which runs it, then resets the connection in place of
 * its reply. The client never learns that the command ran; ioredis reconnects and sends it again
 * (`autoResendUnfulfilledCommands`, or a Cluster client's retry after "Connection is closed").
 */
export class ReplyLosingProxy {
  private readonly open = new Set<Socket>();
  private losing = false;
  /** A command whose reply `loseReplyTo` waits to lose. */
  private awaited?: string;
  /** Replies lost so far. */
  lost = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(redisPort: number): Promise<ReplyLosingProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new ReplyLosingProxy(server, (server.address() as { port: number }).port);
    server.on('connection', (client) => proxy.handle(client, redisPort));
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The next bytes Redis sends back on any connection are dropped and that connection reset. */
  loseNextReply(): void {
    this.losing = true;
  }

  /** The same, for the reply to the next bytes sent to Redis that name `command` (case-insensitive). */
  loseReplyTo(command: string): void {
    this.awaited = command.toLowerCase();
  }

  async close(): Promise<void> {
    // Destroyed, not reset: a reset of a socket that either side had ended left its TCP handle
    // registered on Node 26, and the process hung after its 'exit' event.
    for (const socket of this.open) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(client: Socket, redisPort: number): void {
    const upstream = connect(redisPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.open.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.open.delete(socket);
        if (!socket.destroyed) return;
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      if (this.awaited !== undefined && chunk.toString('latin1').toLowerCase().includes(this.awaited)) {
        this.awaited = undefined;
        this.losing = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!this.losing) {
        client.write(chunk);
        return;
      }
      this.losing = false;
      this.lost++;
      client.resetAndDestroy();
      upstream.destroy();
    });
  }
}
