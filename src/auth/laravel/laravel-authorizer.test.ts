import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { authConfigSlice, type AuthConfig } from '../auth.config.js';
import { ConfigError } from '../../config/load-config.js';
import type { AuthRequest } from '../channel-authorizer.js';
import { ConcurrencyLimit } from '../concurrency-limit.js';
import { LaravelAuthorizer } from './laravel-authorizer.js';

const REQUEST: AuthRequest = {
  channel: 'private-orders.1',
  type: 'private',
  socketId: 'sock',
  headers: {},
  handshakeHeaders: {},
  handshakeAuth: {},
};

/** Requests held on /held until `releaseHeld()`, and the most held at once. */
const held: ServerResponse[] = [];
let peakHeld = 0;
const connections = { count: 0 };

function releaseHeld(): void {
  for (const res of held.splice(0)) res.writeHead(200, { 'Content-Type': 'text/html' }).end('true');
}

/** Answers `true`, except on /slow where it never answers and on /held where it waits for `releaseHeld()`. */
function laravel(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/slow') return;
  if (req.url === '/held') {
    held.push(res);
    peakHeld = Math.max(peakHeld, held.length);
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/html' }).end('true');
}

async function waitUntilTrue(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function authorizer(overrides: Partial<AuthConfig>): LaravelAuthorizer {
  return new LaravelAuthorizer({ ...(authConfigSlice.defaults() as AuthConfig), ...overrides });
}

/** A self-signed certificate for 127.0.0.1, made with the openssl CLI. */
function selfSigned(dir: string): { cert: string; key: string; certFile: string } | undefined {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const made = spawnSync('openssl', [
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'],
    ...['-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile],
  ]);
  if (made.status !== 0) return undefined;
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile };
}

describe('LaravelAuthorizer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'echo-relay-tls-'));
  const tls = selfSigned(dir);
  const http = createHttpServer(laravel);
  const https = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, laravel) : undefined;
  const open: LaravelAuthorizer[] = [];
  let httpUrl: string;
  let httpsUrl: string;

  beforeAll(async () => {
    http.on('connection', () => connections.count++);
    httpUrl = `http://127.0.0.1:${await listen(http)}`;
    if (https) httpsUrl = `https://127.0.0.1:${await listen(https)}`;
  });

  afterAll(async () => {
    open.forEach((a) => a.onApplicationShutdown());
    for (const server of [http, https]) {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  function make(overrides: Partial<AuthConfig>, slots?: ConcurrencyLimit): LaravelAuthorizer {
    const made = slots
      ? new LaravelAuthorizer({ ...(authConfigSlice.defaults() as AuthConfig), ...overrides }, slots)
      : authorizer(overrides);
    open.push(made);
    return made;
  }

  it('gives up after timeoutMs with outcome timeout and status 0', async () => {
    const started = Date.now();
    const result = await make({ host: [httpUrl], endpoint: '/slow', timeoutMs: 200 }).authorize(REQUEST);
    assert.equal(result.outcome, 'timeout');
    assert.equal(result.status, 0);
    assert.ok(Date.now() - started < 2000);
  });

  it('keeps at most its concurrency in requests to the auth host, over that many kept-alive connections', async () => {
    const waiting: number[] = [];
    const slots = new ConcurrencyLimit(3, (delta) => waiting.push(delta));
    const laravelApp = make({ host: [httpUrl], endpoint: '/held', timeoutMs: 60_000 }, slots);
    const before = connections.count;
    const first = Array.from({ length: 10 }, () => laravelApp.authorize(REQUEST));
    await waitUntilTrue(() => held.length === 3 && slots.queued === 7);
    for (let round = 0; round < 4 && (slots.active > 0 || held.length > 0); round++) {
      releaseHeld();
      await waitUntilTrue(() => held.length === Math.min(3, slots.active) || slots.active === 0);
    }
    const results = await Promise.all(first);
    expect(results.every((result) => result.outcome === 'allowed')).toBe(true);
    expect(peakHeld).toBe(3);
    expect(connections.count - before).toBe(3);
    expect(waiting.filter((delta) => delta > 0)).toHaveLength(7);
    expect(waiting.reduce((sum, delta) => sum + delta, 0)).toBe(0);
  });

  (tls ? it : it.skip)('verifies TLS certificates: a self-signed app is a failed call', async () => {
    const result = await make({ host: [httpsUrl] }).authorize(REQUEST);
    assert.equal(result.outcome, 'error');
    assert.equal(result.status, 0);
  });

  (tls ? it : it.skip)('trusts the CA in auth.caFile, on top of the system CAs', async () => {
    const result = await make({ host: [httpsUrl], caFile: tls!.certFile }).authorize(REQUEST);
    assert.deepEqual(result, { outcome: 'allowed', status: 200, channelData: undefined });
  });

  it('stops startup on an unreadable CA file or an empty host list', () => {
    assert.throws(() => authorizer({ caFile: join(dir, 'missing.pem') }), ConfigError);
    assert.throws(() => authorizer({ host: [] }), ConfigError);
  });
});
