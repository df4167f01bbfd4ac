import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A round-robin TCP load balancer on a free port, standing in for the one in front of a
 * cluster of echo-relay nodes: a backend that refuses connections is skipped.
 */
export interface TcpBalancer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startBalancer(backends: () => number[]): Promise<TcpBalancer> {
  let next = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    const ports = backends();
    const tryBackend = (attempt: number): void => {
      if (attempt >= ports.length) return void client.destroy();
      const port = ports[next++ % ports.length];
      const upstream = connect(port, '127.0.0.1');
      upstream.once('connect', () => {
        open.add(upstream);
        upstream.on('close', () => open.delete(upstream));
        client.pipe(upstream).pipe(client);
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      upstream.once('error', () => {
        if (upstream.connecting || !open.has(upstream)) tryBackend(attempt + 1);
      });
    };
    // Held until an upstream is connected; pipe() resumes it, so no early bytes are lost.
    client.pause();
    tryBackend(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        open.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}
