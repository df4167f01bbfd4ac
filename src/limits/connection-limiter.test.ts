import { describe, expect, it } from '@jest/globals';
import { clientAddress, ConnectionLimiter, normalizeIp } from './connection-limiter.js';

describe('normalizeIp', () => {
  it('unwraps IPv4-mapped IPv6 addresses', () => {
    expect(normalizeIp('::ffff:10.0.0.7')).toBe('10.0.0.7');
    expect(normalizeIp('::FFFF:10.0.0.7')).toBe('10.0.0.7');
    expect(normalizeIp('2001:DB8::1')).toBe('2001:db8::1');
    expect(normalizeIp(' 10.0.0.7 ')).toBe('10.0.0.7');
  });
});

describe('clientAddress', () => {
  const proxies = new Set(['10.0.0.1', '10.0.0.2']);

  it('is the TCP peer when the peer is no trusted proxy, whatever the header says', () => {
    expect(clientAddress('::ffff:203.0.113.9', '198.51.100.1', proxies)).toBe('203.0.113.9');
    expect(clientAddress('203.0.113.9', undefined, proxies)).toBe('203.0.113.9');
  });

  it('is the right-most untrusted address of X-Forwarded-For when the peer is a trusted proxy', () => {
    expect(clientAddress('::ffff:10.0.0.1', '198.51.100.1', proxies)).toBe('198.51.100.1');
    // the client wrote 1.1.1.1 itself; the proxies appended what they saw
    expect(clientAddress('10.0.0.1', '1.1.1.1, 198.51.100.1, 10.0.0.2', proxies)).toBe('198.51.100.1');
    expect(clientAddress('10.0.0.1', ['1.1.1.1', '198.51.100.1'], proxies)).toBe('198.51.100.1');
    expect(clientAddress('10.0.0.1', '::ffff:198.51.100.1', proxies)).toBe('198.51.100.1');
  });

  it('skips garbage entries, and falls back to the left-most or the peer', () => {
    expect(clientAddress('10.0.0.1', '198.51.100.1, not-an-ip', proxies)).toBe('198.51.100.1');
    expect(clientAddress('10.0.0.1', '10.0.0.2', proxies)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.1', 'garbage', proxies)).toBe('10.0.0.1');
  });
});

describe('ConnectionLimiter', () => {
  it('refuses past the node limit and admits again after a release', () => {
    const limiter = new ConnectionLimiter(2, 0);
    const a = limiter.acquire('1.1.1.1');
    const b = limiter.acquire('2.2.2.2');
    expect(limiter.acquire('3.3.3.3')).toEqual({ refused: 'max_connections' });
    if (!('release' in a) || !('release' in b)) throw new Error('expected slots');
    a.release();
    a.release(); // idempotent: gives back one slot only
    expect(limiter.count()).toBe(1);
    expect('release' in limiter.acquire('3.3.3.3')).toBe(true);
    expect(limiter.acquire('4.4.4.4')).toEqual({ refused: 'max_connections' });
  });

  it('refuses past the per-address limit, other addresses unaffected', () => {
    const limiter = new ConnectionLimiter(0, 1);
    const first = limiter.acquire('1.1.1.1');
    expect(limiter.acquire('1.1.1.1')).toEqual({ refused: 'max_connections_per_ip' });
    expect('release' in limiter.acquire('2.2.2.2')).toBe(true);
    if (!('release' in first)) throw new Error('expected a slot');
    first.release();
    expect(limiter.count('1.1.1.1')).toBe(0);
    expect('release' in limiter.acquire('1.1.1.1')).toBe(true);
  });

  it('counts IPv6 clients by their /64: one host cannot spread over its addresses', () => {
    const limiter = new ConnectionLimiter(0, 2);
    expect('release' in limiter.acquire('2001:db8:0:1::1')).toBe(true);
    expect('release' in limiter.acquire('2001:db8:0:1::2')).toBe(true);
    expect(limiter.acquire('2001:db8:0:1:ffff:ffff:ffff:ffff')).toEqual({ refused: 'max_connections_per_ip' });
    expect(limiter.count('2001:db8:0:1::99')).toBe(2);
    expect('release' in limiter.acquire('2001:db8:0:2::1')).toBe(true);
  });
});
