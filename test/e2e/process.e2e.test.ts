import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { collect, connected, rawSocket } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { rawExchange } from '../support/http.js';
import { initFile } from '../support/legacy-config.js';
import { waitUntil } from '../support/ports.js';
import { killRelay, spawnRelay, waitListening, waitReady, type RelayProcess } from '../support/relay-process.js';

/** A laravel-echo-server.json as `laravel-echo-server init` writes it, plus a key prefix. */
function legacyConfig(redisPort: number, port: number): Record<string, unknown> {
  const redis = { port: String(redisPort), host: '127.0.0.1', keyPrefix: 'laravel_database_' };
  return initFile(redis, port, { clients: [{ appId: 'a1b2c3', key: 'secret-key' }] });
}

function configFile(content: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'echo-relay-config-')), 'laravel-echo-server.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

describe('echo-relay as a process', () => {
  // Only Redis: every relay here is a child process, killed by the fixture even when a test fails.
  const fx = useFixture({ nodes: 0 });

  function spawn(options: Parameters<typeof spawnRelay>[0]): RelayProcess {
    const relay = spawnRelay(options);
    fx.defer(() => killRelay(relay));
    return relay;
  }

  it('reads an existing laravel-echo-server.json unchanged via `echo-relay start --config`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-config-'));
    const file = join(dir, 'laravel-echo-server.json');
    // Port 0: the relay binds a free port itself and logs it, so no other test can take it first.
    writeFileSync(file, JSON.stringify(legacyConfig(fx.server.port, 0), null, 2));
    const relay = spawn({ bin: true, args: ['start', '--config', file], env: { PORT: '' } });
    await waitReady(relay);
    expect(relay.stdout()).toMatch(/secureOptions\\" in the config file is not supported/);
    // an unsupported key is logged once
    expect(relay.stdout().match(/secureOptions/g)?.length).toBe(1);
    // the startup log names the subscribed pattern
    expect(relay.stdout()).toMatch(/laravel_database_\*/);

    const echo = fx.client({ on: relay.url, version: 2 });
    const got = collect(echo, 'orders', '.paid');
    await connected(echo);
    const laravel = fx.publishTo(fx.redis.url, 'laravel_database_');
    // The room lives in another process: publish until the subscribe has landed there.
    await waitUntil(async () => {
      await laravel.broadcast(['orders'], 'paid', { id: 9 });
      return got.length > 0;
    });
    expect(got[0]).toEqual({ id: 9 });
  });

  it('writes JSON log lines when its output is not a terminal', async () => {
    const relay = spawn({ env: { REDIS_URL: fx.redis.url } });
    await waitReady(relay);
    const lines = relay.stdout().trim().split('\n');
    const entries = lines.map((line) => JSON.parse(line) as { level: string; message: string; context?: string });
    for (const entry of entries) {
      expect(typeof entry.level).toBe('string');
      expect(typeof entry.message).toBe('string');
    }
    expect(lines.some((l) => l.includes('serving on'))).toBe(true);
    // Nest names log contexts, modules and gateways after their classes: the bundle keeps those
    // names (bundled without it: `_InstanceLoader`, `AppModule_1`).
    const said = (context: string) => entries.filter((e) => e.context === context).map((e) => e.message);
    expect(said('InstanceLoader')).toContain('AppModule dependencies initialized');
    expect(said('InstanceLoader')).toContain('GatewayModule dependencies initialized');
    expect(said('RoutesResolver')).toContain('HealthController {/}:');
    expect(said('NestFactory')).toContain('Starting Nest application...');
  });

  it("logs Node's own warnings as JSON lines too, not as text on stderr", async () => {
    const relay = spawn({ env: { REDIS_URL: fx.redis.url } });
    await waitReady(relay);
    // An absolute URL as the request target: Express parses it with Node's deprecated `url.parse()`,
    // whose warning (DEP0169) Node would print as text.
    await rawExchange(Number(new URL(relay.url).port), [
      'GET http://elsewhere.example/ready HTTP/1.1',
      'Host: x',
      'Connection: close',
    ]);
    await waitUntil(() => relay.stdout().includes('DEP0169'), 5000, 'the warning in the log');
    const entries = relay
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: string; message: string; context?: string });
    const warning = entries.find((e) => e.message.includes('DEP0169'));
    expect(warning).toMatchObject({ level: 'warn', context: 'Node' });
    expect(warning?.message).toMatch(/^DeprecationWarning \[DEP0169\]: `url\.parse\(\)`/);
    expect(relay.stderr()).toBe('');
  });

  it("serves socket.io's browser client from the bundle, plain and compressed, and stays up", async () => {
    const relay = spawn({ env: { REDIS_URL: fx.redis.url } });
    await waitReady(relay);
    // The bundle once lost socket.io's __dirname: the first such GET threw and ended the process.
    const plain = await fetch(`${relay.url}/socket.io/socket.io.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(await plain.text()).toMatch(/^\/\*!\n \* Socket\.IO v4\./);
    const gzipped = await fetch(`${relay.url}/socket.io/socket.io.min.js`);
    expect(gzipped.status).toBe(200);
    expect((await gzipped.text()).length).toBeGreaterThan(10_000);
    expect((await fetch(`${relay.url}/health`)).status).toBe(200);
    expect(relay.child.exitCode).toBeNull();
  });

  it("holds V8's young generation small while booting and lets it grow once serving", async () => {
    const probe = fileURLToPath(new URL('../../../test/fixtures/process/young-generation-probe.mjs', import.meta.url));
    const relay = spawn({ env: { REDIS_URL: fx.redis.url, NODE_OPTIONS: `--import=${probe}` } });
    await waitReady(relay);
    relay.child.kill('SIGUSR2');
    await waitUntil(() => /young generation/.test(relay.stderr()), 15_000, 'the probe to report');
    const [, before, after] = /young generation ([\d.]+) -> ([\d.]+) MiB/.exec(relay.stderr())!;
    // Held at V8's initial size through the boot (4 MiB here on Node 24 and 26); unheld, it is
    // about 13 MiB by ready.
    expect(Number(before)).toBeLessThanOrEqual(8);
    // Released once serving, a burst of survivors grows it (64 MiB here). Held for good, it stays at
    // 4 MiB, and every megabyte of new connection state costs a scavenge.
    expect(Number(after)).toBeGreaterThanOrEqual(16);
  });

  it("turns socket.io's and engine.io's debug output on with DEBUG, and only the namespaces it names", async () => {
    // The bundle gives their disabled namespaces a function that does nothing: the ones DEBUG names
    // must still log, to stderr as `debug` does.
    const relay = spawn({ env: { REDIS_URL: fx.redis.url, DEBUG: 'engine:socket,socket.io:socket' } });
    await waitReady(relay);
    const echo = await fx.echoOn('orders', { on: relay.url });
    const socket = rawSocket(echo);
    await waitUntil(() => /socket\.io:socket join room orders/.test(relay.stderr()), 5000, 'the join logged');
    expect(relay.stderr()).toMatch(/engine:socket sending packet "message"/);
    expect(socket.connected).toBe(true);
    // not named: engine's server, socket.io's client and namespace
    expect(relay.stderr()).not.toMatch(/engine handshaking client|socket\.io:client |socket\.io:namespace /);
    const quiet = spawn({ env: { REDIS_URL: fx.redis.url } });
    await waitReady(quiet);
    await fx.echoOn('orders', { on: quiet.url });
    await waitUntil(async () => (await fetch(`${quiet.url}/health`)).status === 200);
    expect(quiet.stderr()).not.toMatch(/socket\.io|engine/);
  });

  it('on SIGTERM fails readiness, disconnects clients, quits Redis and exits 0', async () => {
    const laravel = fx.publishTo(fx.redis.url);
    const relayConnections = async (): Promise<number> =>
      String(await laravel.redis.client('LIST')).match(/name=echo-relay/g)?.length ?? 0;
    // Connections of other relays in this file; this one opens several (subscriber, presence, adapter).
    const connectionsBefore = await relayConnections();
    const relay = spawn({ env: { REDIS_URL: fx.redis.url } });
    await waitReady(relay);
    const echo = await fx.echoOn('orders', { on: relay.url });
    const disconnected = new Promise((resolve) => rawSocket(echo).once('disconnect', resolve));
    expect(await relayConnections()).toBeGreaterThan(connectionsBefore);
    const started = Date.now();
    relay.child.kill('SIGTERM');
    const { code } = await relay.exited;
    expect(code).toBe(0);
    // stopped within the bound
    expect(Date.now() - started).toBeLessThan(5000);
    await disconnected;
    expect(relay.stdout()).toMatch(/SIGTERM received/);
    expect(relay.stdout()).toMatch(/Stopped/);
    await waitUntil(
      async () => (await relayConnections()) === connectionsBefore,
      2000,
      'its Redis connections to close',
    );
  });

  it('refuses to start on a bad env value and names the variable', async () => {
    const relay = spawn({ env: { REDIS_URL: fx.redis.url, PORT: 'not-a-port' } });
    const { code } = await relay.exited;
    expect(code).toBe(78);
    expect(relay.stderr()).toMatch(/env PORT: expected a whole number, got "not-a-port"/);
  });

  it('refuses to start on a bad file value and names the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-config-'));
    const file = join(dir, 'laravel-echo-server.json');
    writeFileSync(file, JSON.stringify({ port: 99999, protocol: 'gopher', databaseConfig: { redis: { db: -1 } } }));
    const relay = spawn({ args: ['--config', file], env: { PORT: '' } });
    const { code } = await relay.exited;
    expect(code).toBe(78);
    expect(relay.stderr()).toMatch(/server\.port \(file "port", env .*PORT\): port must not be greater than 65535/);
    expect(relay.stderr()).toMatch(/server\.protocol .*gopher/);
    expect(relay.stderr()).toMatch(/redis\.db .*must not be less than 0/);
  });

  it('refuses a config file that is not JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-config-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "port": 6001, }');
    const relay = spawn({ args: ['--config', file] });
    const { code } = await relay.exited;
    expect(code).toBe(78);
    expect(relay.stderr()).toMatch(/broken\.json is not valid JSON/);
  });

  it('refuses "clients" written as an object, naming the key, without a stack trace', async () => {
    const file = configFile({ clients: { appId: 'x', key: 'y' } });
    const relay = spawn({ args: ['--config', file], env: { REDIS_URL: fx.redis.url } });
    const { code } = await relay.exited;
    expect(code).toBe(78);
    expect(relay.stderr().trim()).toBe(
      'Invalid configuration: api.clients (file "clients"): expected a list [...], got an object',
    );
    expect(relay.stdout()).toBe('');
  });

  it('refuses a typo of a nested key, suggesting the key it resembles', async () => {
    const file = configFile({ databaseConfig: { redis: { keyprefix: 'laravel_database_' } }, myNote: 'x' });
    const relay = spawn({ args: ['--config', file], env: { REDIS_URL: fx.redis.url } });
    const { code } = await relay.exited;
    expect(code).toBe(78);
    expect(relay.stderr().trim()).toBe(
      'Invalid configuration: "databaseConfig.redis.keyprefix" in the config file: unknown key, did you mean "keyPrefix"?',
    );
  });

  it.each([
    [
      'a jwt driver without a key',
      { authDriver: 'jwt' },
      'auth.jwt: the jwt driver needs exactly one of secret, publicKey, jwksUrl (got none)',
    ],
    [
      'an unreadable authCaFile',
      { authCaFile: '/nonexistent/ca.pem' },
      'auth.caFile (file "authCaFile"): cannot read /nonexistent/ca.pem: ENOENT: no such file or directory, open \'/nonexistent/ca.pem\'',
    ],
    [
      'https without a certificate file',
      { protocol: 'https', sslCertPath: '/nonexistent/cert.pem', sslKeyPath: '/nonexistent/key.pem' },
      'server.sslCertPath (file "sslCertPath", env LARAVEL_ECHO_SERVER_SSL_CERT or ECHO_RELAY_SSL_CERT): cannot read /nonexistent/cert.pem: ENOENT: no such file or directory, open \'/nonexistent/cert.pem\'',
    ],
  ])('refuses %s in one line, exit 78, before logging anything as started', async (_what, settings, message) => {
    const file = configFile(settings);
    const relay = spawn({ args: ['--config', file], env: { REDIS_URL: fx.redis.url } });
    const { code } = await relay.exited;
    expect(code).toBe(78);
    expect(relay.stderr().trim()).toBe(message);
    expect(relay.stdout()).toBe('');
  });

  // Each of these used to start, log, and then crash (SELECT NaN, ERR_OUT_OF_RANGE from a timer,
  // a getaddrinfo stack) or never become ready: now one line naming the key, exit 78, nothing logged.
  it.each([
    [
      'a Redis URL whose db is not a number',
      {},
      { REDIS_URL: 'redis://127.0.0.1:6379/abc' },
      /^Invalid configuration: redis\.url \(.*env REDIS_URL\): the path must be a database number/,
    ],
    [
      'a Redis URL that is no URL',
      {},
      { REDIS_URL: 'garbage' },
      /^Invalid configuration: redis\.url \(.*env REDIS_URL\): not a URL/,
    ],
    [
      'a negative ioredis connectTimeout',
      { databaseConfig: { redis: { connectTimeout: -1 } } },
      {},
      /^Invalid configuration: "databaseConfig\.redis\.connectTimeout" in the config file/,
    ],
    [
      'a sentinel without a numeric port',
      {},
      { REDIS_SENTINELS: 'foo,,bar:abc' },
      /^Invalid configuration:\n {2}- redis\.sentinels .*\[0\]/,
    ],
    // The host from the environment: spawnRelay sets ECHO_RELAY_HOST, which wins over the file.
    [
      'a host that is no host name',
      {},
      { ECHO_RELAY_HOST: 'not a host!' },
      /^Invalid configuration: server\.host \(file "host"/,
    ],
    [
      'an address of another machine as host',
      {},
      { ECHO_RELAY_HOST: '192.0.2.1' },
      /^server\.host \(file "host".*\): 192\.0\.2\.1 is not an address of this machine$/,
    ],
    [
      'a socketio pingTimeout that is no number',
      { socketio: { pingTimeout: 'abc' } },
      {},
      /^Invalid configuration: server\.socketio\.pingTimeout/,
    ],
  ])('refuses %s before starting, exit 78', async (_what, settings, env, message) => {
    const relay = spawn({ args: ['--config', configFile(settings)], env: { REDIS_URL: fx.redis.url, ...env } });
    const { code } = await relay.exited;
    expect(relay.stderr().trim()).toMatch(message);
    expect(code).toBe(78);
    expect(relay.stdout()).toBe('');
  });

  it('refuses a certificate TLS cannot use, naming both settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-config-'));
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    const file = configFile({ protocol: 'https', sslCertPath: junk, sslKeyPath: junk });
    const relay = spawn({ args: ['--config', file], env: { REDIS_URL: fx.redis.url } });
    const { code } = await relay.exited;
    expect(code).toBe(78);
    expect(relay.stderr().trim()).toMatch(/^server\.sslCertPath .* \/ server\.sslKeyPath .*: TLS cannot use them: /);
    expect(relay.stdout()).toBe('');
  });

  it('refuses a port in use in one line naming it, before logging anything as started', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    fx.defer(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const port = (taken.address() as AddressInfo).port;
    const relay = spawn({ env: { REDIS_URL: fx.redis.url, PORT: String(port) } });
    const { code } = await relay.exited;
    expect(code).toBe(78);
    expect(relay.stderr().trim()).toBe(
      `server.port (file "port", env LARAVEL_ECHO_SERVER_PORT or PORT): port ${port} on 127.0.0.1 is already in use`,
    );
    // nothing claimed a start: no Nest lines, no subscription, no "serving on"
    expect(relay.stdout()).toBe('');
  });

  it('lists once at startup the file keys the environment overrides, by name only', async () => {
    const file = configFile({
      port: 6001,
      databaseConfig: { redis: { port: fx.server.port, password: 'file-secret' } },
    });
    const relay = spawn({ args: ['--config', file], env: { REDIS_URL: fx.redis.url, REDIS_PASSWORD: 'env-secret' } });
    await waitListening(relay);
    const lines = relay
      .stdout()
      .split('\n')
      .filter((l) => l.includes('Environment overrides the config file'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/for: port \(PORT\), databaseConfig\.redis\.password \(REDIS_PASSWORD\)"/);
    expect(relay.stdout()).not.toMatch(/secret/);
  });
});
