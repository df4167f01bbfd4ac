import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { ConfigError, fromLegacyFile, loadConfig } from './load-config.js';

const cwd = '/nonexistent-dir-for-config-tests';

describe('auth, presence and whisper settings', () => {
  it('defaults to the Laravel driver with a 5 s timeout, a 30 s lease and 10 whispers/s', () => {
    const { config } = loadConfig({ env: {}, cwd });
    assert.equal(config.auth.driver, 'laravel');
    assert.deepEqual(config.auth.host, ['http://localhost']);
    assert.equal(config.auth.timeoutMs, 5000);
    assert.equal(config.auth.jwt.channelsClaim, 'channels');
    assert.equal(config.presence.leaseMs, 30_000);
    assert.deepEqual({ ...config.whispers }, { enabled: true, ratePerSecond: 10 });
  });

  it('reads every new key from the environment', () => {
    const { config } = loadConfig({
      cwd,
      env: {
        ECHO_RELAY_AUTH_DRIVER: 'jwt',
        ECHO_RELAY_AUTH_HOST: 'https://a.test, https://b.test:8443',
        ECHO_RELAY_AUTH_TIMEOUT_MS: '1500',
        ECHO_RELAY_JWT_SECRET: 's3cret',
        ECHO_RELAY_JWT_ALGORITHMS: 'HS256,HS512',
        ECHO_RELAY_PRESENCE_LEASE_MS: '2000',
        ECHO_RELAY_WHISPERS: 'off',
        ECHO_RELAY_WHISPER_RATE: '3',
      },
    });
    assert.equal(config.auth.driver, 'jwt');
    assert.deepEqual(config.auth.host, ['https://a.test', 'https://b.test:8443']);
    assert.equal(config.auth.timeoutMs, 1500);
    assert.equal(config.auth.jwt.secret, 's3cret');
    assert.deepEqual(config.auth.jwt.algorithms, ['HS256', 'HS512']);
    assert.equal(config.presence.leaseMs, 2000);
    assert.deepEqual({ ...config.whispers }, { enabled: false, ratePerSecond: 3 });
  });

  it('maps the old file keys and the new nested ones without "unsupported" warnings', () => {
    const warnings: string[] = [];
    const layer = fromLegacyFile(
      {
        authHost: 'http://app.test',
        authEndpoint: '/custom/auth',
        jwt: { jwksUrl: 'https://id.test/jwks.json' },
        whispers: { enabled: false },
      },
      warnings,
    );
    assert.deepEqual(layer, {
      auth: { host: ['http://app.test'], endpoint: '/custom/auth', jwt: { jwksUrl: 'https://id.test/jwks.json' } },
      whispers: { enabled: false },
    });
    assert.deepEqual(warnings, []);
  });

  it('stops startup on an unknown driver, naming the key', () => {
    assert.throws(
      () => loadConfig({ cwd, env: { ECHO_RELAY_AUTH_DRIVER: 'ldap' } }),
      (err: Error) => err instanceof ConfigError && /auth\.driver \(file "authDriver"/.test(err.message),
    );
  });
});
