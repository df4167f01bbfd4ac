import { describe, expect, it } from '@jest/globals';
import { fromLegacyFile, loadConfig } from '../config/load-config.js';

const cwd = '/nonexistent-dir-for-config-tests';

describe('presence and whisper settings', () => {
  it('defaults to a 30 s presence lease and 10 whispers/s', () => {
    const { config } = loadConfig({ env: {}, cwd });
    expect(config.presence.leaseMs).toBe(30_000);
    expect(config.whispers).toEqual({ enabled: true, ratePerSecond: 10 });
  });

  it('reads every new key from the environment', () => {
    const { config } = loadConfig({
      cwd,
      env: { ECHO_RELAY_PRESENCE_LEASE_MS: '2000', ECHO_RELAY_WHISPERS: 'off', ECHO_RELAY_WHISPER_RATE: '3' },
    });
    expect(config.presence.leaseMs).toBe(2000);
    expect(config.whispers).toEqual({ enabled: false, ratePerSecond: 3 });
  });

  it('maps the new nested blocks of the file without "unsupported" warnings', () => {
    const warnings: string[] = [];
    const layer = fromLegacyFile({ presence: { leaseMs: 5000 }, whispers: { enabled: false } }, warnings);
    expect(layer).toEqual({ presence: { leaseMs: 5000 }, whispers: { enabled: false } });
    expect(warnings).toEqual([]);
  });

  it("warns about the old file's SQLite presence store, and accepts Redis silently", () => {
    const sqlite: string[] = [];
    fromLegacyFile({ database: 'sqlite', databaseConfig: { sqlite: { databasePath: '/db.sqlite' } } }, sqlite);
    expect(sqlite).toEqual(['"database": "sqlite" is not supported: presence members are kept in Redis']);
    const redis: string[] = [];
    fromLegacyFile({ database: 'redis' }, redis);
    expect(redis).toEqual([]);
  });
});
