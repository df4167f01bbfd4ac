import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import type { RelayConfig } from '../../src/config/relay-config.js';

/** The configuration of a node on `redisUrl` with recovery on, `env` on top (e.g. `ECHO_RELAY_RECOVERY_LEASE_MS`). */
export function recoveryConfig(redisUrl: string, env: Record<string, string> = {}): RelayConfig {
  return loadConfig({
    env: { REDIS_URL: redisUrl, ECHO_RELAY_RECOVERY: 'true', ...env },
    cwd: mkdtempSync(join(tmpdir(), 'echo-relay-recovery-')),
  }).config;
}
