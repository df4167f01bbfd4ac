import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { collect, connected, createEcho, rawSocket } from '../support/echo-client.js';
import { LaravelPublisher } from '../support/laravel-publisher.js';
import { freePort, waitUntil } from '../support/ports.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { killRelay, spawnRelay, waitReady, type RelayProcess } from '../support/relay-process.js';

/** A laravel-echo-server.json as `laravel-echo-server init` writes it, plus a key prefix. */
function legacyConfig(redisPort: number, port: number): Record<string, unknown> {
  return {
    authHost: 'http://localhost',
    authEndpoint: '/broadcasting/auth',
    clients: [{ appId: 'a1b2c3', key: 'secret-key' }],
    database: 'redis',
    databaseConfig: {
      redis: { port: String(redisPort), host: '127.0.0.1', keyPrefix: 'laravel_database_' },
      sqlite: { databasePath: '/database/laravel-echo-server.sqlite' },
    },
    devMode: false,
    host: '127.0.0.1',
    port: String(port),
    protocol: 'http',
    socketio: {},
    secureOptions: 67108864,
    sslCertPath: '',
    sslKeyPath: '',
    sslCertChainPath: '',
    sslPassphrase: '',
    subscribers: { http: true, redis: true },
    apiOriginAllow: { allowCors: false, allowOrigin: '', allowMethods: '', allowHeaders: '' },
  };
}

describe('echo-relay as a process', () => {
  let redis: TestRedis;
  const running: RelayProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    for (const relay of running) await killRelay(relay);
    await redis?.close();
  });

  async function spawn(options: Parameters<typeof spawnRelay>[0]): Promise<RelayProcess> {
    const relay = await spawnRelay(options);
    running.push(relay);
    return relay;
  }

  it('reads an existing laravel-echo-server.json unchanged via `echo-relay start --config`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-config-'));
    const port = await freePort();
    const file = join(dir, 'laravel-echo-server.json');
    writeFileSync(file, JSON.stringify(legacyConfig(redis.port, port), null, 2));
    const relay = await spawn({ bin: true, args: ['start', '--config', file], env: { PORT: '' } });
    relay.url = `http://127.0.0.1:${port}`;
    // Only then ask the port: before our process binds it, another one could be answering there.
    await waitUntil(() => relay.stdout().includes('serving on'), 10_000, 'the relay to listen');
    await waitReady(relay);
    assert.match(relay.stdout(), /secureOptions\\" in the config file is not supported/);
    assert.equal(relay.stdout().match(/secureOptions/g)?.length, 1, 'an unsupported key is logged once');
    assert.match(relay.stdout(), /laravel_database_\*/, 'the startup log names the subscribed pattern');

    const echo = createEcho(relay.url, 2);
    try {
      const got = collect(echo, 'orders', '.paid');
      await connected(echo);
      const laravel = new LaravelPublisher(redis.url, 'laravel_database_');
      // The room lives in another process: publish until the subscribe has landed there.
      await waitUntil(async () => {
        await laravel.broadcast(['orders'], 'paid', { id: 9 });
        return got.length > 0;
      });
      await laravel?.close();
      assert.deepEqual(got[0], { id: 9 });
    } finally {
      echo.disconnect();
    }
  });

  it('writes JSON log lines when its output is not a terminal', async () => {
    const relay = await spawn({ env: { REDIS_URL: redis.url } });
    await waitReady(relay);
    const lines = relay.stdout().trim().split('\n');
    for (const line of lines) {
      const entry = JSON.parse(line) as { level: string; message: string };
      assert.equal(typeof entry.level, 'string');
      assert.equal(typeof entry.message, 'string');
    }
    assert.ok(lines.some((l) => l.includes('serving on')));
  });

  it('on SIGTERM fails readiness, disconnects clients, quits Redis and exits 0', async () => {
    const laravel = new LaravelPublisher(redis.url);
    const relayConnections = async (): Promise<number> =>
      String(await laravel.redis.client('LIST')).match(/name=echo-relay/g)?.length ?? 0;
    // Connections of other relays in this file; this one opens several (subscriber, presence, adapter).
    const connectionsBefore = await relayConnections();
    const relay = await spawn({ env: { REDIS_URL: redis.url } });
    await waitReady(relay);
    const echo = createEcho(relay.url, 4);
    echo.channel('orders');
    await connected(echo);
    const disconnected = new Promise((resolve) => rawSocket(echo).once('disconnect', resolve));
    assert.ok((await relayConnections()) > connectionsBefore);
    const started = Date.now();
    relay.child.kill('SIGTERM');
    const { code } = await relay.exited;
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 5000, 'stopped within the bound');
    await disconnected;
    assert.match(relay.stdout(), /SIGTERM received/);
    assert.match(relay.stdout(), /Stopped/);
    await waitUntil(
      async () => (await relayConnections()) === connectionsBefore,
      2000,
      'its Redis connections to close',
    );
    await laravel?.close();
  });

  it('refuses to start on a bad env value and names the variable', async () => {
    const relay = await spawn({ env: { REDIS_URL: redis.url, PORT: 'not-a-port' } });
    const { code } = await relay.exited;
    assert.equal(code, 78);
    assert.match(relay.stderr(), /env PORT: expected a whole number, got "not-a-port"/);
  });

  it('refuses to start on a bad file value and names the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-config-'));
    const file = join(dir, 'laravel-echo-server.json');
    writeFileSync(file, JSON.stringify({ port: 99999, protocol: 'gopher', databaseConfig: { redis: { db: -1 } } }));
    const relay = await spawn({ args: ['--config', file], env: { PORT: '' } });
    const { code } = await relay.exited;
    assert.equal(code, 78);
    assert.match(relay.stderr(), /server\.port \(file "port", env .*PORT\): port must not be greater than 65535/);
    assert.match(relay.stderr(), /server\.protocol .*gopher/);
    assert.match(relay.stderr(), /redis\.db .*must not be less than 0/);
  });

  it('refuses a config file that is not JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-config-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "port": 6001, }');
    const relay = await spawn({ args: ['--config', file] });
    const { code } = await relay.exited;
    assert.equal(code, 78);
    assert.match(relay.stderr(), /broken\.json is not valid JSON/);
  });
});
