/**
 * `server.backlog` reaches the listening socket: the kernel reports a listener's accept-queue
 * limit as its Send-Q (`ss -ltn`), capped at net.core.somaxconn. Node's own default, 511, is what
 * overflowed when 10,000 clients reconnected at once.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { useFixture } from '../support/fixture.js';
import type { TestRelay } from '../support/relay.js';

const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));

/** The accept-queue limit of the socket listening on 127.0.0.1:port. */
function listenBacklog(port: number): number {
  const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim();
  const [, , sendQ] = line.split(/\s+/);
  return Number(sendQ);
}

describe('listen backlog', () => {
  describe('by default', () => {
    const fx = useFixture();
    let relay: TestRelay;
    beforeAll(() => {
      relay = fx.relay;
    });

    it('is 4096, or the kernel cap when lower', () => {
      expect(relay.config.server.backlog).toBe(4096);
      expect(listenBacklog(relay.port)).toBe(Math.min(4096, somaxconn));
    });
  });

  describe('with ECHO_RELAY_BACKLOG', () => {
    const fx = useFixture({ env: { ECHO_RELAY_BACKLOG: '700' } });
    let relay: TestRelay;
    beforeAll(() => {
      relay = fx.relay;
    });

    it('is the configured length', () => {
      expect(listenBacklog(relay.port)).toBe(Math.min(700, somaxconn));
    });
  });
});
