import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import { ConfigError, loadConfig } from './load-config.js';

function withFile(content: unknown): { file: string; cwd: string } {
  const cwd = mkdtempSync(join(tmpdir(), 'echo-relay-api-config-'));
  const file = join(cwd, 'laravel-echo-server.json');
  writeFileSync(file, JSON.stringify(content));
  return { file, cwd };
}

describe('API configuration', () => {
  it('defaults: no clients, publishing on, 100 KB bodies, main port, CORS off', () => {
    const { config } = loadConfig({ env: {}, cwd: mkdtempSync(join(tmpdir(), 'echo-relay-api-config-')) });
    assert.deepEqual(config.api.clients, []);
    assert.equal(config.api.publish, true);
    assert.equal(config.api.maxBodyBytes, 102400);
    assert.equal(config.api.port, undefined);
    assert.equal(config.api.cors.enabled, false);
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
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      config.api.clients.map((c) => ({ ...c })),
      [{ appId: 'abc', key: 'k' }],
    );
    assert.equal(config.api.publish, false);
    assert.equal(config.broadcast.redis, true, 'subscribers.http does not turn Redis off');
    assert.deepEqual(
      { ...config.api.cors },
      {
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
      },
    );
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
    assert.equal(config.api.port, 9601);
    assert.equal(config.api.host, '10.0.0.5');
    assert.equal(config.api.maxBodyBytes, 2048);
    assert.deepEqual(config.api.cors.origins, ['https://a.test', 'https://b.test']);
    assert.deepEqual(
      config.api.clients.map((c) => ({ ...c })),
      [{ appId: 'x', key: 'y' }],
    );
  });

  it('stops startup on bad values, naming the key', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'echo-relay-api-config-'));
    assert.throws(
      () => loadConfig({ env: { ECHO_RELAY_API_PORT: '70000' }, cwd }),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /api\.port \(file "apiPort", env ECHO_RELAY_API_PORT\)/);
        return true;
      },
    );
    assert.throws(
      () => loadConfig({ env: { ECHO_RELAY_CLIENTS: '[{"appId": 1}]' }, cwd }),
      /api\.clients\.0\.(appId|key)/,
    );
  });
});
