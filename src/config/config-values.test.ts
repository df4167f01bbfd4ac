import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import { CONFIG_KEYS } from './config-keys.js';
import { MAX_TIMER_MS } from './key-label.js';
import { ConfigError, loadConfig } from './load-config.js';
import { initFile } from '../../test/support/legacy-config.js';

function dirWith(file?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'echo-relay-unit-'));
  if (file !== undefined) writeFileSync(join(dir, 'laravel-echo-server.json'), JSON.stringify(file));
  return dir;
}

/** The message of the `ConfigError` that loading this file and environment throws. */
function loadError(file: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig({ env, cwd: dirWith(file) });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail(`no ConfigError for ${JSON.stringify(file)} ${JSON.stringify(env)}`);
}

/** Loads without error, for values that must keep working. */
function load(file: unknown, env: NodeJS.ProcessEnv = {}): ReturnType<typeof loadConfig> {
  return loadConfig({ env, cwd: dirWith(file) });
}

describe('millisecond settings are bounded by what setTimeout honours', () => {
  const msKeys = CONFIG_KEYS.filter((k) => k.kind === 'int' && /Ms$/.test(k.path));

  it('every *Ms key refuses more than 2147483647, from the file and the environment', () => {
    assert.ok(msKeys.length > 10);
    for (const key of msKeys) {
      const env = key.env[key.env.length - 1];
      assert.match(loadError({}, { [env]: String(MAX_TIMER_MS + 1) }), new RegExp(`${key.path.replace('.', '\\.')} `));
      if (key.file) {
        const file: Record<string, unknown> = {};
        let node = file;
        const parts = key.file.split('.');
        for (const part of parts.slice(0, -1)) node = node[part] = {};
        node[parts[parts.length - 1]] = 1e20;
        assert.match(loadError(file), new RegExp(`\\(file "${key.file}"`), key.file);
      }
    }
  });

  it('the shutdown durations of the report', () => {
    assert.match(loadError({ shutdownTimeoutMs: 1e20 }), /shutdown\.timeoutMs \(file "shutdownTimeoutMs"/);
    assert.match(
      loadError({}, { ECHO_RELAY_SHUTDOWN_TIMEOUT_MS: '9999999999' }),
      /shutdown\.timeoutMs .*ECHO_RELAY_SHUTDOWN_TIMEOUT_MS/,
    );
    assert.match(loadError({ shutdownGraceMs: 3e9 }), /shutdown\.graceMs/);
    assert.equal(load({ shutdownGraceMs: MAX_TIMER_MS }).config.shutdown.graceMs, MAX_TIMER_MS);
  });
});

describe('interfaces to bind', () => {
  it('a host that is neither an IP address nor a host name names host, not the port', () => {
    assert.match(
      loadError({ host: 'not a host!' }),
      /^Invalid configuration: server\.host \(file "host", env LARAVEL_ECHO_SERVER_HOST or ECHO_RELAY_HOST\): "not a host!" is neither an IP address nor a host name$/,
    );
    assert.match(loadError({ host: '999.1.1.1' }), /server\.host .*"999\.1\.1\.1" is neither/);
    assert.match(
      loadError({}, { ECHO_RELAY_API_HOST: 'a_b c' }),
      /api\.host \(file "apiHost", env ECHO_RELAY_API_HOST\)/,
    );
  });

  it('keeps what binds: the old file\'s "host": null, addresses and names', () => {
    assert.equal(load({ host: null }).config.server.host, '');
    for (const host of ['127.0.0.1', '::1', '0.0.0.0', 'localhost', 'relay-1.internal', 'example.com.']) {
      assert.equal(load({ host }).config.server.host, host);
    }
  });

  it('apiPort equal to port names apiPort', () => {
    assert.match(
      loadError({ port: 6001, apiPort: 6001 }),
      /^Invalid configuration: api\.port \(file "apiPort", env ECHO_RELAY_API_PORT\): 6001 is the main port/,
    );
    assert.match(
      loadError({}, { PORT: '7000', ECHO_RELAY_API_PORT: '7000', ECHO_RELAY_API_HOST: '127.0.0.1' }),
      /api\.port/,
    );
    // Other interfaces, or port 0 (any free one), can share the number.
    load({ host: '127.0.0.1', apiHost: '127.0.0.2', port: 6001, apiPort: 6001 });
    load({ port: 0, apiPort: 0 });
  });
});

describe('the socketio block', () => {
  it('type- and range-checks the socket.io options the relay hands on', () => {
    const message = loadError({ socketio: { pingTimeout: 'abc', pingInterval: 1000, maxHttpBufferSize: -1 } });
    assert.deepEqual(message.split('\n').slice(1), [
      '  - server.socketio.pingTimeout (file "socketio.pingTimeout"): expected a whole number of ms from 1 to 2147483647, got "abc"',
      '  - server.socketio.maxHttpBufferSize (file "socketio.maxHttpBufferSize"): expected a whole number of bytes, at least 1, got -1',
    ]);
    assert.match(loadError({ socketio: { transports: 'websocket' } }), /server\.socketio\.transports .*non-empty list/);
    assert.match(loadError({ socketio: { transports: ['websocket', 'flashsocket'] } }), /transports/);
    assert.match(loadError({ socketio: { pingInterval: 3e9 } }), /pingInterval/);
    assert.match(loadError({ socketio: { allowUpgrades: 'no' } }), /allowUpgrades .*expected true or false/);
    assert.match(loadError({ socketio: { perMessageDeflate: 1 } }), /perMessageDeflate/);
    assert.match(loadError({ socketio: { path: 'socket.io' } }), /socketio\.path .*starting with "\/"/);
    assert.match(loadError({ socketio: { connectTimeout: 0 } }), /connectTimeout/);
  });

  it('accepts what socket.io reads, and leaves the keys it does not check alone', () => {
    const socketio = {
      pingTimeout: 20000,
      pingInterval: 25000,
      maxHttpBufferSize: 1e6,
      transports: ['websocket', 'polling'],
      allowUpgrades: false,
      perMessageDeflate: { threshold: 1024 },
      path: '/socket.io',
      origins: 'app.test:*',
      myFlag: 'x',
    };
    assert.deepEqual(load({ socketio }).config.server.socketio, socketio);
  });
});

describe('values that silently fell back to a default', () => {
  it('null means the default, with a warning naming the key, except on host where it is what the old file says', () => {
    const { config, warnings } = load({ port: null, databaseConfig: { redis: { password: null } } });
    assert.equal(config.server.port, 6001);
    assert.equal(config.redis.password, '');
    assert.deepEqual(
      warnings.filter((w) => w.includes('null')),
      [
        'server.port (file "port"): null ignored, the default applies; remove the key to silence this',
        'redis.password (file "databaseConfig.redis.password"): null ignored, the default applies; remove the key to silence this',
      ],
    );
    const withHost = load({ host: null, apiHost: null });
    assert.equal(withHost.config.api.host, '');
    assert.deepEqual(
      withHost.warnings.filter((w) => w.includes('null')),
      [],
    );
  });

  it('the file laravel-echo-server init writes still starts unchanged', () => {
    // As it writes them: no host, the port as a string, devMode on.
    const { config, warnings } = load(initFile({}, '6001', { devMode: true, host: null }));
    assert.equal(config.server.host, '');
    assert.equal(config.server.port, 6001);
    assert.deepEqual(warnings, ['"secureOptions" in the config file is not supported by echo-relay and is ignored']);
  });

  it('trusted proxies must be IP addresses', () => {
    assert.match(
      loadError({ limits: { trustedProxies: 'notanip' } }),
      /limits\.trustedProxies \(file "limits\.trustedProxies", env ECHO_RELAY_TRUSTED_PROXIES\): "notanip" is not an IP address/,
    );
    assert.match(loadError({ limits: { trustedProxies: ['10.0.0.1', '999.9.9.9'] } }), /"999\.9\.9\.9" is not an IP/);
    assert.match(loadError({}, { ECHO_RELAY_TRUSTED_PROXIES: 'zzz' }), /limits\.trustedProxies .*"zzz"/);
    assert.deepEqual(load({}, { ECHO_RELAY_TRUSTED_PROXIES: '10.0.0.1, ::1' }).config.limits.trustedProxies, [
      '10.0.0.1',
      '::1',
    ]);
  });

  it('a list of commas alone is a slip, not "any origin"', () => {
    assert.equal(
      loadError({}, { ECHO_RELAY_ALLOWED_ORIGINS: ',,,' }),
      'Invalid configuration: server.allowedOrigins (env ECHO_RELAY_ALLOWED_ORIGINS): ",,," holds no entries',
    );
    assert.match(
      loadError({ allowedOrigins: ' , ' }),
      /server\.allowedOrigins \(file "allowedOrigins"\): " , " holds no entries/,
    );
    // An empty value is still "unset", and the old file's empty allowOrigin still starts.
    assert.deepEqual(
      load({ apiOriginAllow: { allowOrigin: '' } }, { ECHO_RELAY_ALLOWED_ORIGINS: '' }).config.server.allowedOrigins,
      [],
    );
  });

  it('allowedOrigins entries that can match no origin', () => {
    assert.match(
      loadError({}, { ECHO_RELAY_ALLOWED_ORIGINS: 'https://app.test,ftp://x.test' }),
      /server\.allowedOrigins \(file "allowedOrigins", env ECHO_RELAY_ALLOWED_ORIGINS\): "ftp:\/\/x\.test" is neither an origin/,
    );
    assert.deepEqual(load({ allowedOrigins: ['https://app.test', 'app.test:*', '*'] }).config.server.allowedOrigins, [
      'https://app.test',
      'app.test:*',
      '*',
    ]);
  });
});

describe('messages name the key as it was written', () => {
  it('webhookUrl from the file is named by its file key', () => {
    assert.match(
      loadError({ clients: [{ appId: 'a', key: 'k', secret: 's' }], webhookUrl: 'nope' }),
      /^Invalid configuration: webhooks\.url \(file "webhookUrl", env ECHO_RELAY_WEBHOOK_URL\): not a URL/,
    );
  });

  it('a list setting given a number says a string is fine too', () => {
    assert.equal(
      loadError({ authHost: 5 }),
      'Invalid configuration: auth.host (file "authHost"): expected a list [...] or a comma-separated string, got a number',
    );
    assert.match(loadError({ authHost: [5] }), /auth\.host .*each value in host must be a string/);
  });
});

describe('pusher.cacheTtlSec', () => {
  it("defaults to Pusher's 30 minutes and takes whole seconds from a second to a day", () => {
    assert.equal(load({}).config.pusher.cacheTtlSec, 1800);
    assert.equal(load({}, { ECHO_RELAY_PUSHER_CACHE_TTL: '1' }).config.pusher.cacheTtlSec, 1);
    assert.equal(load({ pusher: { cacheTtlSec: 86_400 } }).config.pusher.cacheTtlSec, 86_400);
    for (const bad of ['0', '-5', '1.5', '86401', 'soon'])
      assert.match(
        loadError({}, { ECHO_RELAY_PUSHER_CACHE_TTL: bad }),
        /pusher\.cacheTtlSec|ECHO_RELAY_PUSHER_CACHE_TTL/,
      );
    assert.match(loadError({ pusher: { cacheTtlSec: 0 } }), /pusher\.cacheTtlSec/);
  });
});
