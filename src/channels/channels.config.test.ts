import { describe, expect, it } from '@jest/globals';
import { fromLegacyFile, loadConfig } from '../config/load-config.js';

const cwd = '/nonexistent-dir-for-config-tests';

describe('presence and whisper settings', () => {
  it('defaults to a 30 s presence lease, no leave grace and 10 whispers/s', () => {
    const { config } = loadConfig({ env: {}, cwd });
    expect(config.presence).toEqual({ leaseMs: 30_000, leaveGraceMs: 0, publish: false });
    expect(config.whispers).toEqual({ enabled: true, ratePerSecond: 10 });
  });

  it('reads every new key from the environment', () => {
    const { config } = loadConfig({
      cwd,
      env: {
        ECHO_RELAY_PRESENCE_LEASE_MS: '2000',
        ECHO_RELAY_PRESENCE_LEAVE_GRACE_MS: '5000',
        ECHO_RELAY_WHISPERS: 'off',
        ECHO_RELAY_WHISPER_RATE: '3',
      },
    });
    expect(config.presence).toEqual({ leaseMs: 2000, leaveGraceMs: 5000, publish: false });
    expect(config.whispers).toEqual({ enabled: false, ratePerSecond: 3 });
  });

  it("reads the old file's databaseConfig.publishPresence, and ECHO_RELAY_PUBLISH_PRESENCE", () => {
    const warnings: string[] = [];
    expect(fromLegacyFile({ databaseConfig: { publishPresence: true } }, warnings)).toEqual({
      presence: { publish: true },
    });
    expect(warnings).toEqual([]);
    expect(loadConfig({ cwd, env: { ECHO_RELAY_PUBLISH_PRESENCE: 'true' } }).config.presence.publish).toBe(true);
  });

  it('maps the new nested blocks of the file without "unsupported" warnings', () => {
    const warnings: string[] = [];
    const file = { presence: { leaseMs: 5000, leaveGraceMs: 3000 }, whispers: { enabled: false } };
    expect(fromLegacyFile(file, warnings)).toEqual(file);
    expect(warnings).toEqual([]);
  });

  it('refuses a negative leave grace, or one over 10 minutes', () => {
    for (const value of ['-1', '600001']) {
      expect(() => loadConfig({ cwd, env: { ECHO_RELAY_PRESENCE_LEAVE_GRACE_MS: value } })).toThrow(
        /LEAVE_GRACE_MS|leaveGraceMs/,
      );
    }
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
