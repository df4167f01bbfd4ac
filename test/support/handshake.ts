import { request } from 'node:http';

export type HandshakeTransport = 'websocket' | 'polling';

/**
 * A bare Engine.IO handshake at `baseUrl`: a long-polling GET, or a WebSocket upgrade (status 101
 * when accepted; the socket is then dropped and the body is empty). For specs that look at what a
 * refusal answers: an accepted polling handshake holds its session until the ping timeout.
 */
export function rawHandshake(
  baseUrl: string,
  transport: HandshakeTransport,
  { eio = 4, headers = {} }: { eio?: 3 | 4; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  const upgrade: Record<string, string> =
    transport === 'websocket'
      ? {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        }
      : {};
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}/socket.io/?EIO=${eio}&transport=${transport}`, {
      headers: { ...upgrade, ...headers },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('handshake timed out')));
    req.end();
  });
}
