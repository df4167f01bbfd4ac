import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import { ConfigError, fromEnv, fromLegacyFile, loadConfig } from './load-config.js';
import { closestKey } from './suggest.js';

function dirWith(file: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'echo-relay-unit-'));
  if (file !== undefined) writeFileSync(join(dir, 'laravel-echo-server.json'), JSON.stringify(file));
  return dir;
}

/** The message of the `ConfigError` that reading `file` throws. */
function fileError(file: Record<string, unknown>): string {
  try {
    fromLegacyFile(file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail(`no ConfigError for ${JSON.stringify(file)}`);
}

describe('closestKey', () => {
  it('suggests a key in another case or one slip away, and nothing for names far from any', () => {
    assert.equal(closestKey('keyprefix', ['keyPrefix', 'host']), 'keyPrefix');
    assert.equal(closestKey('prot', ['port', 'host']), 'port');
    assert.equal(closestKey('authEndpiont', ['authHost', 'authEndpoint']), 'authEndpoint');
    assert.equal(closestKey('url', ['tls', 'db']), undefined);
    assert.equal(closestKey('subscribers', ['port']), undefined);
  });
});

describe('wrong shapes are config errors naming the key', () => {
  it('an object where the file needs a list: clients', () => {
    const message = fileError({ clients: { appId: 'x', key: 'y' } });
    assert.equal(message, 'Invalid configuration: api.clients (file "clients"): expected a list [...], got an object');
  });

  it('a list where the file needs an object, and a scalar where it nests settings', () => {
    assert.match(
      fileError({ socketio: [] }),
      /server\.socketio \(file "socketio"\): expected an object \{\.\.\.\}, got a list/,
    );
    assert.match(
      fileError({ subscribers: true }),
      /"subscribers" in the config file: expected an object \{\.\.\.\}, got a boolean/,
    );
    assert.match(fileError({ databaseConfig: { redis: 'redis://x' } }), /"databaseConfig\.redis" .*expected an object/);
    assert.match(fileError({ authHost: { url: 'http://a' } }), /auth\.host \(file "authHost"\): expected a list/);
  });

  it('entries of a list of objects, with a suggestion for their keys', () => {
    assert.match(
      fileError({ clients: ['x'] }),
      /api\.clients \(file "clients"\[0\]\): expected an object with appId, key, secret, got a string/,
    );
    assert.match(fileError({ clients: [{ appid: 'a', key: 'k' }] }), /"appid": unknown key, did you mean "appId"\?/);
    assert.match(fileError({ webhooks: [{ url: 'http://a', event_type: ['x'] }] }), /did you mean "event_types"/);
  });

  it('lists and objects inside entries: a webhook filter and its event types', () => {
    const load = (target: unknown): unknown =>
      loadConfig({ env: {}, cwd: dirWith({ clients: [{ appId: 'a', key: 'k', secret: 's' }], webhooks: [target] }) });
    assert.throws(
      () => load({ url: 'http://a.test/', filter: [] }),
      /webhooks\.targets\.0\.filter .*must be an object/,
    );
    assert.throws(
      () => load({ url: 'http://a.test/', event_types: 'channel_occupied' }),
      /event_types must be an array/,
    );
  });

  it('the same shapes from the environment, naming the variable', () => {
    assert.throws(
      () => fromEnv({ ECHO_RELAY_CLIENTS: '{"appId":"x","key":"y"}' }),
      /api\.clients \(env ECHO_RELAY_CLIENTS\): expected a list \[\.\.\.\], got an object/,
    );
  });

  it('never prints the value: a secret may sit in it', () => {
    assert.doesNotMatch(fileError({ clients: { appId: 'x', key: 'hunter2' } }), /hunter2/);
  });

  it('reports every problem, one line each', () => {
    const message = fileError({ clients: {}, prot: 6001 });
    assert.deepEqual(message.split('\n').slice(1), [
      '  - "prot" in the config file: unknown key, did you mean "port"?',
      '  - api.clients (file "clients"): expected a list [...], got an object',
    ]);
  });
});

describe('unknown keys', () => {
  it('a near miss of a known key is an error with the suggestion, at every level', () => {
    assert.match(
      fileError({ databaseConfig: { redis: { keyprefix: 'a_' } } }),
      /"databaseConfig\.redis\.keyprefix" .*did you mean "keyPrefix"\?/,
    );
    assert.match(fileError({ authhost: 'http://a' }), /"authhost" .*did you mean "authHost"\?/);
    assert.match(fileError({ subscribers: { htpp: true } }), /"subscribers\.htpp" .*did you mean "http"\?/);
    assert.match(fileError({ apiOriginAllow: { allowOrigins: '*' } }), /did you mean "allowOrigin"\?/);
    assert.match(
      fileError({ databaseConfig: { redis: { enableOfflinequeue: false } } }),
      /did you mean "enableOfflineQueue"\?/,
    );
  });

  it("the old server's keys and ioredis options are accepted; other unknown keys only warn", () => {
    const warnings: string[] = [];
    const layer = fromLegacyFile(
      {
        database: 'redis',
        databaseConfig: { redis: { family: 4, retryStrategy: null, madeUp: 1 }, sqlite: { databasePath: '/x' } },
        devMode: true,
        subscribers: { http: true, redis: true },
        apiOriginAllow: { allowCors: false, allowOrigin: '' },
        secureOptions: 67108864,
        myOwnNote: 'deployed by ansible',
      },
      warnings,
    );
    assert.deepEqual(warnings, [
      '"databaseConfig.redis.madeUp" in the config file is not an option ioredis knows; passed to it unchanged',
      '"secureOptions" in the config file is not supported by echo-relay and is ignored',
      '"myOwnNote" in the config file is not supported by echo-relay and is ignored',
    ]);
    assert.deepEqual(layer.redis, { options: { family: 4, retryStrategy: null, madeUp: 1 } });
  });

  it("the socketio block is checked against socket.io's options: near misses stop, others warn", () => {
    assert.equal(
      fileError({ socketio: { pingTimout: 5000 } }),
      'Invalid configuration: "socketio.pingTimout" in the config file: unknown key, did you mean "pingTimeout"?',
    );
    const warnings: string[] = [];
    const layer = fromLegacyFile(
      { socketio: { origins: 'app.test:*', pingInterval: 10000, transports: ['websocket'], myFlag: true } },
      warnings,
    );
    assert.deepEqual(warnings, [
      '"socketio.myFlag" in the config file is not an option socket.io knows; passed to it unchanged',
    ]);
    assert.deepEqual((layer.server as Record<string, unknown>).socketio, {
      origins: 'app.test:*',
      pingInterval: 10000,
      transports: ['websocket'],
      myFlag: true,
    });
  });

  it('an authHost that is not an http(s) URL, from the file or the environment', () => {
    const fromFile = dirWith({ authHost: 'localhost:8000' });
    assert.throws(
      () => loadConfig({ cwd: fromFile, env: {} }),
      /auth\.host \(file "authHost".*\): "localhost:8000" is not an http\(s\) URL/,
    );
    assert.throws(
      () => loadConfig({ cwd: dirWith(undefined), env: { ECHO_RELAY_AUTH_HOST: 'http://ok.test,ftp://app.test' } }),
      /"ftp:\/\/app\.test" is not an http\(s\) URL/,
    );
    const ok = loadConfig({ cwd: dirWith({ authHost: ['http://a.test', 'https://b.test:8443'] }), env: {} });
    assert.deepEqual(ok.config.auth.host, ['http://a.test', 'https://b.test:8443']);
  });
});

describe('environment variable names', () => {
  it('a near miss of a variable echo-relay reads is an error; other names with its prefixes warn', () => {
    assert.throws(
      () => fromEnv({ ECHO_RELAY_LOG_LEVL: 'debug' }),
      /^ConfigError: Invalid configuration: env ECHO_RELAY_LOG_LEVL: unknown variable, did you mean ECHO_RELAY_LOG_LEVEL\?$/,
    );
    const warnings: string[] = [];
    fromEnv({ ECHO_RELAY_WEBHOOK_SECRET: 's', LARAVEL_ECHO_SERVER_DB: 'x', REDIS_CLIENT: 'phpredis' }, warnings);
    assert.deepEqual(warnings, [
      'env ECHO_RELAY_WEBHOOK_SECRET is not a setting of echo-relay and is ignored',
      'env LARAVEL_ECHO_SERVER_DB is not a setting of echo-relay and is ignored',
    ]);
  });
});

describe('environment over the file', () => {
  it('lists the file keys an environment variable overrides, by name, never by value', () => {
    const cwd = dirWith({ port: 6002, databaseConfig: { redis: { password: 'file-secret', host: 'r' } } });
    const { overrides } = loadConfig({
      env: { PORT: '7000', REDIS_PASSWORD: 'env-secret', REDIS_PREFIX: 'p_', ECHO_RELAY_BACKLOG: '' },
      cwd,
    });
    assert.deepEqual(overrides, ['port (PORT)', 'databaseConfig.redis.password (REDIS_PASSWORD)']);
  });

  it('names the variable that wins when several are set', () => {
    const { overrides } = loadConfig({ env: { LARAVEL_ECHO_SERVER_PORT: '1', PORT: '2' }, cwd: dirWith({ port: 3 }) });
    assert.deepEqual(overrides, ['port (PORT)']);
  });

  it('lists nothing without a file', () => {
    assert.deepEqual(loadConfig({ env: { PORT: '7000' }, cwd: dirWith(undefined) }).overrides, []);
  });
});
