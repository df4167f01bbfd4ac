import { describe, expect, it } from '@jest/globals';
import { CLIENT_VERSIONS, connected, rawSocket, type ClientVersion, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { rawHandshake, type HandshakeTransport } from '../support/handshake.js';
import { waitUntil } from '../support/ports.js';
import type { TestRelay } from '../support/relay.js';
import { NodeConnections } from '../../src/limits/node-connections.js';

const TRANSPORTS: HandshakeTransport[] = ['websocket', 'polling'];

/** The status of a bare handshake (see `rawHandshake`). */
async function handshakeStatus(
  relay: TestRelay,
  transport: HandshakeTransport,
  eio: 3 | 4,
  headers: Record<string, string> = {},
): Promise<number> {
  return (await rawHandshake(relay.url, transport, { eio, headers })).status;
}

async function refusals(relay: TestRelay, reason: string): Promise<number> {
  return (await relay.metrics.connectionsRefused.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function openConnections(relay: TestRelay): Promise<number> {
  return (await relay.metrics.connections.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/**
 * Connections the limit counts: from the handshake to engine.io's close, which comes after the
 * socket.io disconnect the `connections` gauge follows (a client's closing WebSocket is a round
 * trip behind its disconnect packet). A test that connects once the gauge drops can still be refused.
 */
function slotsTaken(relay: TestRelay): number {
  return relay.app.get(NodeConnections).limiter?.count() ?? 0;
}

/** Connects a client, or says it was refused. */
async function tryConnect(echo: TestEcho): Promise<'connected' | 'refused'> {
  try {
    await connected(echo, 10_000);
    return 'connected';
  } catch {
    return 'refused';
  }
}

describe('limits.maxConnections: connections of one node', () => {
  const fx = useFixture({ env: { ECHO_RELAY_MAX_CONNECTIONS: '2' } });

  /** A WebSocket client, or a long-polling one that upgrades to WebSocket (socket.io's default). */
  const client = (version: ClientVersion, transport: HandshakeTransport): TestEcho =>
    fx.client({
      version,
      client: { transports: transport === 'websocket' ? ['websocket'] : ['polling', 'websocket'] },
    });

  /** Waits until a polling client has upgraded: its connection must still count once. */
  async function upgraded(echo: TestEcho): Promise<void> {
    const engine = (): { transport: { name: string } } =>
      (rawSocket(echo) as unknown as { io: { engine: { transport: { name: string } } } }).io.engine;
    await waitUntil(() => engine().transport.name === 'websocket', 10_000, 'the upgrade to WebSocket');
  }

  for (const version of CLIENT_VERSIONS) {
    for (const transport of TRANSPORTS) {
      it(`socket.io-client ${version} over ${transport}: the third is refused with 503 and counted; a slot frees on disconnect`, async () => {
        const relay = fx.relay;
        await waitUntil(() => slotsTaken(relay) === 0, 20_000, 'no connections left over');
        const first = client(version, transport);
        const second = client(version, transport);
        expect(await tryConnect(first)).toBe('connected');
        expect(await tryConnect(second)).toBe('connected');
        await upgraded(first);
        await upgraded(second);
        const before = await refusals(relay, 'max_connections');
        const eio = version === 4 ? 4 : 3;
        expect(await handshakeStatus(relay, 'websocket', eio)).toBe(503);
        expect(await handshakeStatus(relay, 'polling', eio)).toBe(503);
        expect(await tryConnect(client(version, transport))).toBe('refused');
        expect(await refusals(relay, 'max_connections')).toBe(before + 3);
        expect(await openConnections(relay)).toBe(2);
        first.disconnect();
        await waitUntil(async () => (await openConnections(relay)) === 1, 10_000, 'the disconnect');
        await waitUntil(() => slotsTaken(relay) === 1, 10_000, 'the slot freed');
        expect(await tryConnect(client(version, transport))).toBe('connected');
        expect(await handshakeStatus(relay, 'websocket', eio)).toBe(503);
      });
    }
  }

  it('refuses a foreign origin as before (403 polling, 400 WebSocket), without taking a slot', async () => {
    const strict = await fx.startNode({
      env: { ECHO_RELAY_MAX_CONNECTIONS: '1', ECHO_RELAY_ALLOWED_ORIGINS: 'https://shop.example' },
    });
    const foreign = { Origin: 'https://evil.example' };
    expect(await handshakeStatus(strict, 'polling', 4, foreign)).toBe(403);
    expect(await handshakeStatus(strict, 'websocket', 4, foreign)).toBe(400);
    expect(await refusals(strict, 'max_connections')).toBe(0);
    expect(await tryConnect(fx.client({ on: strict }))).toBe('connected');
    expect(await handshakeStatus(strict, 'polling', 4)).toBe(503);
  });
});

describe('limits.maxConnectionsPerIp: connections of one client address', () => {
  const fx = useFixture({ nodes: 0 });

  it('counts the TCP peer, ignoring X-Forwarded-For from an untrusted peer', async () => {
    const relay = await fx.startNode({ env: { ECHO_RELAY_MAX_CONNECTIONS_PER_IP: '1' } });
    const first = fx.client({ on: relay, client: { extraHeaders: { 'X-Forwarded-For': '198.51.100.1' } } });
    expect(await tryConnect(first)).toBe('connected');
    const spoofing = { 'X-Forwarded-For': '198.51.100.2' };
    expect(await handshakeStatus(relay, 'websocket', 4, spoofing)).toBe(503);
    expect(await handshakeStatus(relay, 'polling', 4, spoofing)).toBe(503);
    expect(await refusals(relay, 'max_connections_per_ip')).toBe(2);
    expect(await refusals(relay, 'max_connections')).toBe(0);
  });

  it('counts an IPv6 client by its /64 network: one host cannot spread over its addresses', async () => {
    const relay = await fx.startNode({
      env: { ECHO_RELAY_MAX_CONNECTIONS_PER_IP: '1', ECHO_RELAY_TRUSTED_PROXIES: '127.0.0.1' },
    });
    const from = (address: string): Record<string, string> => ({ 'X-Forwarded-For': address });
    const first = fx.client({ on: relay, client: { extraHeaders: from('2001:db8:0:1::1') } });
    expect(await tryConnect(first)).toBe('connected');
    expect(await handshakeStatus(relay, 'websocket', 4, from('2001:db8:0:1::2'))).toBe(503);
    expect(await handshakeStatus(relay, 'polling', 3, from('2001:DB8:0:1:ffff:ffff:ffff:ffff'))).toBe(503);
    expect(await refusals(relay, 'max_connections_per_ip')).toBe(2);
    const otherNetwork = fx.client({ on: relay, client: { extraHeaders: from('2001:db8:0:2::1') } });
    expect(await tryConnect(otherNetwork)).toBe('connected');
  });

  for (const version of CLIENT_VERSIONS) {
    for (const transport of TRANSPORTS) {
      it(`behind a trusted proxy, counts the right-most untrusted X-Forwarded-For address (socket.io-client ${version}, ${transport})`, async () => {
        const relay = await fx.startNode({
          env: { ECHO_RELAY_MAX_CONNECTIONS_PER_IP: '1', ECHO_RELAY_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.1' },
        });
        // What the client wrote itself (left) does not count; what the proxies appended does.
        const as = (chain: string): TestEcho =>
          fx.client({
            on: relay,
            version,
            client: { transports: [transport], extraHeaders: { 'X-Forwarded-For': chain } },
          });
        const ann = as('203.0.113.7, 198.51.100.1, 10.0.0.1');
        expect(await tryConnect(ann)).toBe('connected');
        expect(await tryConnect(as('198.51.100.1'))).toBe('refused');
        expect(await tryConnect(as('::ffff:198.51.100.1'))).toBe('refused');
        expect(await tryConnect(as('198.51.100.9, 198.51.100.1'))).toBe('refused');
        expect(await tryConnect(as('198.51.100.2'))).toBe('connected');
        expect(await refusals(relay, 'max_connections_per_ip')).toBe(3);
        ann.disconnect();
        await waitUntil(async () => (await openConnections(relay)) === 1, 10_000, 'the disconnect');
        await waitUntil(() => slotsTaken(relay) === 1, 10_000, 'the slot freed');
        expect(await tryConnect(as('198.51.100.1'))).toBe('connected');
      });
    }
  }
});
