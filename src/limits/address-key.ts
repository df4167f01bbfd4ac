import { isIP } from 'node:net';

/**
 * What the per-address limits (`limits.maxConnectionsPerIp`, `limits.maxRecoveryBytesPerIp`, the
 * Admin UI's login gate) count a client under: an IPv4 address as it is; an IPv6 address by its
 * /64 network, `2001:db8:0:1::/64`. A /64 is what one subscriber or site is given, and one host
 * may take any address in it: counted per address, one client could open as many connections, and
 * keep as many recovery sessions, as it has addresses. A network of hosts sharing a /64 shares the
 * limit, as hosts behind one IPv4 NAT do. Anything that is not an IP address (a Unix socket's
 * empty peer) is its own key.
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = ipv6Groups(address);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : address;
}

/** The eight 16-bit groups of an IPv6 address (as `isIP` accepts it), lower-case hex, no leading zeros. */
function ipv6Groups(address: string): string[] | undefined {
  // A zone (`fe80::1%eth0`) names the interface, not the address.
  let text = address.split('%')[0].toLowerCase();
  // An IPv4 address in the last 32 bits (`64:ff9b::192.0.2.1`): two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail, extra] = text.split('::');
  if (extra !== undefined) return undefined;
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  return groups.map((group) => parseInt(group, 16).toString(16));
}
