import { isIP } from 'node:net';
import { addressKey } from './address-key.js';

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) as `1.2.3.4`; other addresses unchanged. */
export function normalizeIp(address: string): string {
  const trimmed = address.trim();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(trimmed);
  return (mapped ? mapped[1] : trimmed).toLowerCase();
}

/**
 * The client's address: the TCP peer's, unless the peer is a trusted proxy; then the right-most
 * address of `X-Forwarded-For` that is not itself a trusted proxy (the left part of the chain is
 * whatever the client wrote, so only what trusted proxies appended counts). When every address of
 * the chain is trusted, the left-most one.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: ReadonlySet<string>,
): string {
  const remote = normalizeIp(peer ?? '');
  if (!trustedProxies.has(remote) || forwardedFor === undefined) return remote;
  const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map(normalizeIp)
    .filter((address) => isIP(address) !== 0);
  for (let i = chain.length - 1; i >= 0; i--) {
    if (!trustedProxies.has(chain[i])) return chain[i];
  }
  return chain[0] ?? remote;
}

export type ConnectionRefusal = 'max_connections' | 'max_connections_per_ip';

/**
 * Counts this node's connections, in total and per client address, against `limits.maxConnections`
 * and `limits.maxConnectionsPerIp` (`0`: unlimited). A handshake takes a slot before it is accepted
 * and gives it back exactly once, when its connection closes or the handshake fails; so concurrent
 * handshakes cannot overshoot, and an upgrade (same connection) is never counted again.
 */
export class ConnectionLimiter {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly maxConnections: number,
    private readonly maxPerAddress: number,
  ) {}

  /** True when no limit is set: nothing needs counting. */
  get unlimited(): boolean {
    return this.maxConnections === 0 && this.maxPerAddress === 0;
  }

  /**
   * Takes a slot for `address` (counted under its `addressKey`: an IPv6 client by its /64), or says
   * which limit refuses it. The release is idempotent.
   */
  acquire(client: string): { release: () => void } | { refused: ConnectionRefusal } {
    if (this.maxConnections > 0 && this.total >= this.maxConnections) return { refused: 'max_connections' };
    const address = addressKey(client);
    const current = this.perAddress.get(address) ?? 0;
    if (this.maxPerAddress > 0 && current >= this.maxPerAddress) return { refused: 'max_connections_per_ip' };
    this.total++;
    this.perAddress.set(address, current + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const left = (this.perAddress.get(address) ?? 1) - 1;
        if (left > 0) this.perAddress.set(address, left);
        else this.perAddress.delete(address);
      },
    };
  }

  /** Connections counted now, in total and for one address (its `addressKey`). */
  count(address?: string): number {
    return address === undefined ? this.total : (this.perAddress.get(addressKey(address)) ?? 0);
  }
}
