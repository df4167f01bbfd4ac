import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import { deepMerge } from './deep-merge.js';
import { ConfigError, fromEnv, fromLegacyFile, loadConfig } from './load-config.js';

function dirWith(file?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'echo-relay-unit-'));
  if (file !== undefined) writeFileSync(join(dir, 'laravel-echo-server.json'), JSON.stringify(file));
  return dir;
}

describe('loadConfig', () => {
  it("uses the old server's defaults with no file and no env", () => {
    const { config } = loadConfig({ env: {}, cwd: dirWith() });
    assert.equal(config.server.port, 6001);
    assert.equal(config.server.host, '');
    assert.equal(config.redis.prefix, '');
    assert.equal(config.broadcast.redis, true);
    assert.equal(config.sourceFile, undefined);
  });

  it('reads ./laravel-echo-server.json when present, and env wins over it', () => {
    const cwd = dirWith({ port: '6002', databaseConfig: { redis: { host: 'redis.internal', keyPrefix: 'app_' } } });
    const { config } = loadConfig({ env: { REDIS_PREFIX: 'laravel_database_' }, cwd });
    assert.equal(config.server.port, 6002, 'a string port from the old file is accepted');
    assert.equal(config.redis.host, 'redis.internal');
    assert.equal(config.redis.prefix, 'laravel_database_');
    assert.equal(config.sourceFile, join(cwd, 'laravel-echo-server.json'));
  });

  it('merges deeply: a partial subscribers block does not turn Redis off', () => {
    const { config } = loadConfig({ env: {}, cwd: dirWith({ subscribers: { http: true } }) });
    assert.equal(config.broadcast.redis, true);
  });

  it('treats an explicit empty REDIS_PREFIX as "no prefix"', () => {
    const cwd = dirWith({ databaseConfig: { redis: { keyPrefix: 'laravel_database_' } } });
    assert.equal(loadConfig({ env: { REDIS_PREFIX: '' }, cwd }).config.redis.prefix, '');
  });

  it('names the key and where to set it when a value is invalid', () => {
    assert.throws(
      () => loadConfig({ env: {}, cwd: dirWith({ port: 70000 }) }),
      (err: Error) => err instanceof ConfigError && /server\.port \(file "port", env .*PORT\)/.test(err.message),
    );
    assert.throws(
      () => loadConfig({ env: { REDIS_TLS: 'maybe' }, cwd: dirWith() }),
      /env REDIS_TLS: expected true or false/,
    );
    assert.throws(() => loadConfig({ env: {}, file: 'missing.json', cwd: dirWith() }), /Cannot read config file/);
  });

  it('fails on a file that is not an object', () => {
    assert.throws(() => loadConfig({ env: {}, cwd: dirWith([1, 2]) }), /must hold a JSON object/);
  });
});

describe('fromLegacyFile', () => {
  it('maps the old keys and passes other ioredis options through', () => {
    const warnings: string[] = [];
    const layer = fromLegacyFile(
      {
        host: null,
        devMode: true,
        databaseConfig: { redis: { port: 6380, password: 'pw', keyPrefix: 'p_', family: 4 } },
        sslCertPath: '/etc/ssl/cert.pem',
        somethingElse: { nested: 1 },
      },
      warnings,
    );
    assert.deepEqual(layer, {
      log: { devMode: true },
      redis: { port: 6380, password: 'pw', prefix: 'p_', options: { family: 4 } },
      server: { sslCertPath: '/etc/ssl/cert.pem' },
    });
    assert.deepEqual(warnings, ['"somethingElse" in the config file is not supported by echo-relay and is ignored']);
  });

  it('warns that sqlite presence storage is not supported', () => {
    const warnings: string[] = [];
    fromLegacyFile({ database: 'sqlite' }, warnings);
    assert.match(warnings[0], /"database": "sqlite" is not supported/);
  });
});

describe('fromEnv', () => {
  it('reads the old LARAVEL_ECHO_SERVER_* names, and ours win over them', () => {
    assert.deepEqual(fromEnv({ LARAVEL_ECHO_SERVER_PORT: '7000', LARAVEL_ECHO_SERVER_REDIS_HOST: 'r1' }), {
      server: { port: 7000 },
      redis: { host: 'r1' },
    });
    assert.deepEqual(fromEnv({ LARAVEL_ECHO_SERVER_PORT: '7000', PORT: '7001' }), { server: { port: 7001 } });
  });

  it('splits lists and parses booleans', () => {
    assert.deepEqual(
      fromEnv({ ECHO_RELAY_ALLOWED_ORIGINS: 'https://a.test, https://b.test', LARAVEL_ECHO_SERVER_DEBUG: 'true' }),
      {
        server: { allowedOrigins: ['https://a.test', 'https://b.test'] },
        log: { devMode: true },
      },
    );
  });
});

describe('deepMerge', () => {
  it('merges objects at every depth, replaces arrays and scalars, ignores undefined', () => {
    assert.deepEqual(deepMerge({ a: { b: 1, c: [1] }, d: 1 }, { a: { c: [2] }, d: undefined }), {
      a: { b: 1, c: [2] },
      d: 1,
    });
  });

  it('does not let a config file pollute prototypes', () => {
    deepMerge({}, JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
