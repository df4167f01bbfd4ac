import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { exportJWK, SignJWT, type JWTPayload } from 'jose';
import { authConfigSlice, type AuthConfig, type JwtConfig } from '../auth.config.js';
import { ConfigError } from '../../config/load-config.js';
import type { AuthRequest } from '../channel-authorizer.js';
import { JwtAuthorizer } from './jwt-authorizer.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const GRANT = { sub: '7', channels: ['private-orders.*', 'presence-room.*'], user_info: { name: 'Ann' } };

function config(jwt: Partial<JwtConfig>): AuthConfig {
  const defaults = authConfigSlice.defaults() as AuthConfig;
  return { ...defaults, timeoutMs: 1000, jwt: { ...defaults.jwt, ...jwt } };
}

function request(token: string, channel = 'private-orders.1'): AuthRequest {
  return {
    channel,
    type: channel.startsWith('presence-') ? 'presence' : 'private',
    socketId: 's',
    headers: { Authorization: `Bearer ${token}` },
    handshakeHeaders: {},
    handshakeAuth: {},
  };
}

function sign(payload: JWTPayload, alg: string, key: Parameters<SignJWT['sign']>[0], kid?: string): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, kid }).setExpirationTime('5m').sign(key);
}

describe('JwtAuthorizer', () => {
  it('verifies RS256 tokens against a PEM public key, and presence gets sub and user_info', async () => {
    const authorizer = new JwtAuthorizer(config({ publicKey: publicPem }));
    const token = await sign(GRANT, 'RS256', rsa.privateKey);
    assert.deepEqual(await authorizer.authorize(request(token)), { outcome: 'allowed', status: 200 });
    assert.deepEqual(await authorizer.authorize(request(token, 'presence-room.1')), {
      outcome: 'allowed',
      status: 200,
      channelData: { user_id: '7', user_info: { name: 'Ann' } },
    });
  });

  it('refuses an HS256 token "signed" with the public key text (algorithm confusion)', async () => {
    const authorizer = new JwtAuthorizer(config({ publicKey: publicPem }));
    const forged = await sign(GRANT, 'HS256', new TextEncoder().encode(publicPem));
    const result = await authorizer.authorize(request(forged));
    assert.equal(result.outcome, 'denied');
    assert.equal(result.status, 401);
  });

  it('a secret only verifies HS256 unless more algorithms are configured', async () => {
    const secret = 'x'.repeat(64);
    const hs512 = await sign(GRANT, 'HS512', new TextEncoder().encode(secret));
    assert.equal((await new JwtAuthorizer(config({ secret })).authorize(request(hs512))).status, 401);
    const widened = new JwtAuthorizer(config({ secret, algorithms: ['HS256', 'HS512'] }));
    assert.equal((await widened.authorize(request(hs512))).outcome, 'allowed');
  });

  it('checks issuer and audience when configured', async () => {
    const authorizer = new JwtAuthorizer(
      config({ publicKey: publicPem, issuer: 'https://id.test', audience: 'relay' }),
    );
    const good = await sign({ ...GRANT, iss: 'https://id.test', aud: 'relay' }, 'RS256', rsa.privateKey);
    const wrongAud = await sign({ ...GRANT, iss: 'https://id.test', aud: 'other' }, 'RS256', rsa.privateKey);
    assert.equal((await authorizer.authorize(request(good))).outcome, 'allowed');
    assert.equal((await authorizer.authorize(request(wrongAud))).status, 401);
  });

  it('refuses to start without exactly one key source', () => {
    assert.throws(() => new JwtAuthorizer(config({})), ConfigError);
    assert.throws(() => new JwtAuthorizer(config({ secret: 's', jwksUrl: 'https://id.test/jwks' })), ConfigError);
    assert.throws(() => new JwtAuthorizer(config({ publicKey: '/no/such/key.pem' })), ConfigError);
  });

  describe('with a JWKS URL', () => {
    let server: Server;
    let url: string;
    let up = true;

    beforeAll(async () => {
      const jwk = { ...(await exportJWK(ec.publicKey)), kid: 'k1', alg: 'ES256' };
      server = createServer((_req, res) => {
        if (!up) return void res.writeHead(500).end();
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    });

    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('verifies ES256 tokens with the key named by kid, refuses unknown kids', async () => {
      const authorizer = new JwtAuthorizer(config({ jwksUrl: url }));
      const token = await sign(GRANT, 'ES256', ec.privateKey, 'k1');
      assert.equal((await authorizer.authorize(request(token))).outcome, 'allowed');
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const unknown = await sign(GRANT, 'ES256', other.privateKey, 'k2');
      assert.equal((await authorizer.authorize(request(unknown))).status, 401);
    });

    it('a key set that cannot be fetched is a failed call (status 0), not a denial', async () => {
      up = false;
      try {
        const authorizer = new JwtAuthorizer(config({ jwksUrl: url }));
        const result = await authorizer.authorize(request(await sign(GRANT, 'ES256', ec.privateKey, 'k1')));
        assert.equal(result.outcome, 'error');
        assert.equal(result.status, 0);
      } finally {
        up = true;
      }
    });
  });
});
