import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../config/load-config.js';

function withFile(content: unknown): { file: string; cwd: string } {
  const cwd = mkdtempSync(join(tmpdir(), 'echo-relay-api-config-'));
  const file = join(cwd, 'laravel-echo-server.json');
  writeFileSync(file, JSON.stringify(content));
  return { file, cwd };
}

describe('API configuration', () => {
  it('defaults: no clients, publishing on, 100 KB bodies, main port, CORS off', () => {
    const { config } = loadConfig({ env: {}, cwd: mkdtempSync(join(tmpdir(), 'echo-relay-api-config-')) });
    expect(config.api.clients).toEqual([]);
    expect(config.api.publish).toBe(true);
    expect(config.api.maxBodyBytes).toBe(102400);
    expect(config.api.port).toBe(undefined);
    expect(config.api.cors.enabled).toBe(false);
  });

  it("reads the old file's clients, subscribers.http and apiOriginAllow block", () => {
    const { file, cwd } = withFile({
      clients: [{ appId: 'abc', key: 'k' }],
      subscribers: { http: false, redis: true },
      apiOriginAllow: {
        allowCors: true,
        allowOrigin: 'http://localhost:80',
        allowMethods: 'GET, POST',
        allowHeaders:
          'Origin, Content-Type, X-Auth-Token, X-Requested-With, Accept, Authorization, X-CSRF-TOKEN, X-Socket-Id',
      },
    });
    const { config, warnings } = loadConfig({ env: {}, file, cwd });
    expect(warnings).toEqual([]);
    expect(config.api.clients).toEqual([{ appId: 'abc', key: 'k' }]);
    expect(config.api.publish).toBe(false);
    expect(config.broadcast.redis).toBe(true);
    expect(config.api.cors).toEqual({
      enabled: true,
      origins: ['http://localhost:80'],
      methods: ['GET', 'POST'],
      headers: [
        'Origin',
        'Content-Type',
        'X-Auth-Token',
        'X-Requested-With',
        'Accept',
        'Authorization',
        'X-CSRF-TOKEN',
        'X-Socket-Id',
      ],
    });
  });

  it('takes the new keys from env over the file', () => {
    const { file, cwd } = withFile({ apiPort: 7001, apiOriginAllow: { allowOrigin: 'https://a.test' } });
    const { config } = loadConfig({
      env: {
        ECHO_RELAY_API_PORT: '9601',
        ECHO_RELAY_API_HOST: '10.0.0.5',
        ECHO_RELAY_API_MAX_BODY_BYTES: '2048',
        ECHO_RELAY_API_CORS_ORIGINS: 'https://a.test, https://b.test',
        ECHO_RELAY_CLIENTS: '[{"appId":"x","key":"y"}]',
      },
      file,
      cwd,
    });
    expect(config.api.port).toBe(9601);
    expect(config.api.host).toBe('10.0.0.5');
    expect(config.api.maxBodyBytes).toBe(2048);
    expect(config.api.cors.origins).toEqual(['https://a.test', 'https://b.test']);
    expect(config.api.clients).toEqual([{ appId: 'x', key: 'y' }]);
  });

  it('stops startup on bad values, naming the key', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'echo-relay-api-config-'));
    const badPort = (): unknown => loadConfig({ env: { ECHO_RELAY_API_PORT: '70000' }, cwd });
    expect(badPort).toThrow(ConfigError);
    expect(badPort).toThrow(/api\.port \(file "apiPort", env ECHO_RELAY_API_PORT\)/);
    expect(() => loadConfig({ env: { ECHO_RELAY_CLIENTS: '[{"appId": 1}]' }, cwd })).toThrow(
      /api\.clients\.0\.(appId|key)/,
    );
  });
});
