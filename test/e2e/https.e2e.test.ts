import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { collect, connected } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { rawExchange } from '../support/http.js';
import { waitUntil } from '../support/ports.js';
import type { TestRelay } from '../support/relay.js';

/** Writes a fresh self-signed certificate for 127.0.0.1 over `cert.pem`/`key.pem` in `dir`. */
function issueCertificate(dir: string, name: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
}

/** The certificate the server presents, as its subject CN, trusting only the file at `caPath`. */
function servedCertificate(port: number, caPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/', ca: readFileSync(caPath), agent: false }, (res) => {
      const cn = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN;
      res.resume();
      res.on('end', () => resolve(String(cn)));
    });
    req.on('error', reject);
  });
}

describe("HTTPS / WSS from the old file's ssl settings", () => {
  let relay: TestRelay;
  const dir = mkdtempSync(join(tmpdir(), 'echo-relay-tls-'));
  const fx = useFixture({ nodes: 0 });

  beforeAll(async () => {
    issueCertificate(dir, 'first');
    relay = await fx.startNode({
      env: {
        LARAVEL_ECHO_SERVER_PROTO: 'https',
        LARAVEL_ECHO_SERVER_SSL_CERT: join(dir, 'cert.pem'),
        LARAVEL_ECHO_SERVER_SSL_KEY: join(dir, 'key.pem'),
      },
    });
  });

  it('serves HTTPS and delivers broadcasts over WSS', async () => {
    expect(await servedCertificate(relay.port, join(dir, 'cert.pem'))).toBe('first');
    const echo = fx.client({ client: { ca: readFileSync(join(dir, 'cert.pem')) } });
    const got = collect(echo, 'secure', '.paid');
    await connected(echo);
    await relay.waitForSubscribers('secure', 1);
    await fx.laravel.broadcast(['secure'], 'paid', { ok: true });
    await waitUntil(() => got.length === 1);
  });

  it('answers a request with an Upgrade header other than websocket like one without it', async () => {
    const answer = await rawExchange(
      relay.port,
      ['GET /health HTTP/1.1', 'Host: 127.0.0.1', 'Connection: Upgrade', 'Upgrade: foo'],
      { tls: true },
    );
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });

  it('picks up a renewed certificate without a restart', async () => {
    issueCertificate(dir, 'renewed');
    await waitUntil(
      async () => (await servedCertificate(relay.port, join(dir, 'cert.pem'))) === 'renewed',
      10_000,
      'the renewed certificate to be served',
    );
    expect(relay.logs.matching(/TLS certificate reloaded/).length).toBeGreaterThanOrEqual(1);
  });
});
