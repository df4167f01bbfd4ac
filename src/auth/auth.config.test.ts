import { describe, expect, it } from '@jest/globals';
import { ConfigError, fromLegacyFile, loadConfig } from '../config/load-config.js';

const cwd = '/nonexistent-dir-for-config-tests';

describe('auth settings', () => {
  it('defaults to the Laravel driver on http://localhost with a 5 s timeout', () => {
    const { config } = loadConfig({ env: {}, cwd });
    expect(config.auth.driver).toBe('laravel');
    expect(config.auth.host).toEqual(['http://localhost']);
    expect(config.auth.endpoint).toBe('/broadcasting/auth');
    expect(config.auth.timeoutMs).toBe(5000);
    expect(config.auth.jwt.channelsClaim).toBe('channels');
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
      },
    });
    expect(config.auth.driver).toBe('jwt');
    expect(config.auth.host).toEqual(['https://a.test', 'https://b.test:8443']);
    expect(config.auth.timeoutMs).toBe(1500);
    expect(config.auth.jwt.secret).toBe('s3cret');
    expect(config.auth.jwt.algorithms).toEqual(['HS256', 'HS512']);
  });

  it('maps the old file keys and the new nested jwt block without "unsupported" warnings', () => {
    const warnings: string[] = [];
    const layer = fromLegacyFile(
      { authHost: 'http://app.test', authEndpoint: '/custom/auth', jwt: { jwksUrl: 'https://id.test/jwks.json' } },
      warnings,
    );
    expect(layer).toEqual({
      auth: { host: ['http://app.test'], endpoint: '/custom/auth', jwt: { jwksUrl: 'https://id.test/jwks.json' } },
    });
    expect(warnings).toEqual([]);
  });

  it('stops startup on an unknown driver, naming the key', () => {
    const unknownDriver = (): unknown => loadConfig({ cwd, env: { ECHO_RELAY_AUTH_DRIVER: 'ldap' } });
    expect(unknownDriver).toThrow(ConfigError);
    expect(unknownDriver).toThrow(/auth\.driver \(file "authDriver"/);
  });
});
