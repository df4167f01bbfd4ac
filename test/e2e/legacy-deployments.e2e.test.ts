import { execFileSync, spawn as spawnProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { collect, connected } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { ApiClient } from '../support/http-api.js';
import { initFile } from '../support/legacy-config.js';
import { freePort, waitUntil } from '../support/ports.js';
import { answerOf, pusherSdk } from '../support/pusher-api.js';
import { killRelay, spawnRelay, waitReady, type RelayProcess } from '../support/relay-process.js';
import type { TestRelay } from '../support/relay.js';

/** An app of the old file's `clients`: an id and a key, no secret. */
const LEGACY_APP = { appId: 'legacy-app', key: 'legacy-key' };

/** A laravel-echo-server.json as `laravel-echo-server init` writes it, in a directory of its own. */
function legacyDir(redis: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'echo-relay-legacy-'));
  const config = initFile(redis, 0, extra);
  writeFileSync(join(dir, 'laravel-echo-server.json'), JSON.stringify(config, null, '\t'));
  return dir;
}

/**
 * What deployments of laravel-echo-server 1.6.3 rely on that its README documents or its code did,
 * found by running both servers side by side on the same files and requests: each must keep working
 * when `laravel-echo-server start` becomes `echo-relay start`, with nothing changed.
 */
describe('a laravel-echo-server deployment, moved over unchanged', () => {
  const fx = useFixture({ nodes: 0, auth: { ann: { id: 1, info: { name: 'Ann' } } } });

  function spawn(options: Parameters<typeof spawnRelay>[0]): RelayProcess {
    const relay = spawnRelay(options);
    fx.defer(() => killRelay(relay));
    return relay;
  }

  it('reads LARAVEL_ECHO_SERVER_* from the .env of its directory, ${VAR} references resolved', async () => {
    const dir = legacyDir({ host: '127.0.0.1', port: String(fx.server.port) });
    // A Laravel app's .env: its own REDIS_PORT is not echo-relay's business, as it was not the old server's.
    writeFileSync(
      join(dir, '.env'),
      [
        'APP_NAME=Laravel',
        `APP_URL=${fx.app.url}`,
        'REDIS_PORT=1',
        'LARAVEL_ECHO_SERVER_AUTH_HOST=${APP_URL}',
        'LARAVEL_ECHO_SERVER_DEBUG=true',
        '',
      ].join('\n'),
    );
    const relay = spawn({ bin: true, cwd: dir, args: ['start'], env: { PORT: '' } });
    await waitReady(relay);
    expect(relay.stdout()).toMatch(/authHost \(LARAVEL_ECHO_SERVER_AUTH_HOST\)/);

    const echo = fx.client({ on: relay.url, token: 'ann' });
    echo.private('orders.1');
    await connected(echo);
    await waitUntil(() => fx.app.callsFor('private-orders.1').length === 1, 5000, 'the auth call');
    expect(fx.app.callsFor('private-orders.1')[0].path).toBe('/broadcasting/auth');
  });

  it('connects to a Redis over TLS with the ioredis tls options of databaseConfig.redis.tls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-redis-tls-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=redis-test'].concat([
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]),
      { stdio: 'ignore' },
    );
    const tlsPort = await freePort();
    const redis = spawnProcess(
      'redis-server',
      ['--port', '0', '--tls-port', String(tlsPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'].concat(
        ['--tls-cert-file', join(dir, 'cert.pem'), '--tls-key-file', join(dir, 'key.pem')],
        ['--tls-ca-cert-file', join(dir, 'cert.pem'), '--tls-auth-clients', 'no'],
      ),
      { stdio: 'ignore' },
    );
    fx.defer(async () => {
      const exited = new Promise((resolve) => redis.once('exit', resolve));
      redis.kill('SIGKILL');
      await exited;
    });
    // A managed Redis with a certificate of its own, as guides for the old server configure it.
    const tls = { rejectUnauthorized: false };
    const relay = spawn({
      bin: true,
      cwd: legacyDir({ host: '127.0.0.1', port: tlsPort, tls }),
      args: ['start'],
      env: { PORT: '' },
    });
    await waitReady(relay);
  });

  describe("the old HTTP API's publishing", () => {
    let relay: TestRelay;
    let api: ApiClient;

    beforeAll(async () => {
      relay = await fx.startNode({ overrides: { api: { clients: [LEGACY_APP] } } });
      api = new ApiClient(relay.apiUrl, LEGACY_APP.appId, LEGACY_APP.key);
    });

    it('takes a JSON body whatever its Content-Type says, as laravel-echo-server did', async () => {
      const echo = fx.client({ on: relay });
      const got = collect(echo, 'news', '.posted');
      await connected(echo);
      await relay.waitForSubscribers('news', 1);
      for (const contentType of ['application/x-www-form-urlencoded', 'text/plain;charset=UTF-8']) {
        const answer = await api.publish(
          { channel: 'news', name: 'posted', data: { via: contentType } },
          { contentType },
        );
        expect([answer.status, answer.body]).toEqual([200, { message: 'ok' }]);
      }
      await waitUntil(() => got.length === 2);
      expect(got).toEqual([{ via: 'application/x-www-form-urlencoded' }, { via: 'text/plain;charset=UTF-8' }]);
      // What is not JSON at all is still refused.
      const form = await api.publish('channel=news&name=posted', { contentType: 'application/x-www-form-urlencoded' });
      expect(form.status).toBe(400);
    });

    it('delivers a string "data" that is not JSON as the string itself', async () => {
      const echo = fx.client({ on: relay });
      const got = collect(echo, 'ticker', '.said');
      await connected(echo);
      await relay.waitForSubscribers('ticker', 1);
      const answer = await api.publish({ channel: 'ticker', name: 'said', data: 'Hello, world' });
      expect([answer.status, answer.body]).toEqual([200, { message: 'ok' }]);
      await waitUntil(() => got.length === 1);
      expect(got).toEqual(['Hello, world']);
    });

    it("answers Pusher's SDK for an app without a secret, on its key alone, as the old README's recipe has it", async () => {
      const echo = fx.client({ on: relay });
      const got = collect(echo, 'orders', '.shipped');
      await connected(echo);
      await relay.waitForSubscribers('orders', 1);
      // `'secret' => null` in config/broadcasting.php; any secret signs, none is checked.
      const laravel = pusherSdk(relay.apiUrl, { ...LEGACY_APP, secret: 'whatever' });
      const answer = await answerOf(laravel.trigger('orders', 'shipped', { id: 7 }));
      expect(answer).toEqual({ status: 200, body: { message: 'ok' } });
      await waitUntil(() => got.length === 1);
      expect(got).toEqual([{ id: 7 }]);
      const wrongKey = pusherSdk(relay.apiUrl, { ...LEGACY_APP, key: 'not-the-key', secret: 'whatever' });
      expect((await answerOf(wrongKey.trigger('orders', 'shipped', { id: 8 }))).status).toBe(401);
    });
  });
});
