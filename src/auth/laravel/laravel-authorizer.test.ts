import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { authConfigSlice, type AuthConfig } from '../auth.config.js';
import { ConfigError } from '../../config/load-config.js';
import type { AuthRequest } from '../channel-authorizer.js';
import { LaravelAuthorizer } from './laravel-authorizer.js';

const REQUEST: AuthRequest = {
  channel: 'private-orders.1',
  type: 'private',
  socketId: 'sock',
  headers: {},
  handshakeHeaders: {},
  handshakeAuth: {},
};

/** Answers `true`, except on /slow where it never answers. */
function laravel(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/slow') return;
  res.writeHead(200, { 'Content-Type': 'text/html' }).end('true');
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

  function make(overrides: Partial<AuthConfig>): LaravelAuthorizer {
    const made = authorizer(overrides);
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
