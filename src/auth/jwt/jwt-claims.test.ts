import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import type { AuthRequest } from '../channel-authorizer.js';
import { bearer, channelDataFromClaims, channelPatternMatches, findToken, grantsChannel } from './jwt-claims.js';

function request(overrides: Partial<AuthRequest> = {}): AuthRequest {
  return {
    channel: 'private-orders.1',
    type: 'private',
    socketId: 's',
    headers: {},
    handshakeHeaders: {},
    handshakeAuth: {},
    ...overrides,
  };
}

describe('channelPatternMatches', () => {
  const cases: [string, string, boolean][] = [
    ['private-orders.*', 'private-orders.42', true],
    ['private-orders.*', 'private-orders.', true],
    ['private-orders.*', 'private-orders.42.items', false],
    ['private-orders.*', 'private-orders', false],
    ['private-orders.*', 'presence-orders.42', false],
    ['private-orders.**', 'private-orders.42.items', true],
    ['private-*', 'private-orders', true],
    ['private-*', 'private-orders.1', false],
    ['private-**', 'private-orders.1', true],
    ['presence-room.*.chat', 'presence-room.7.chat', true],
    ['presence-room.*.chat', 'presence-room.7.8.chat', false],
    ['private-App.Models.User.1', 'private-App.Models.User.1', true],
    ['private-App.Models.User.1', 'private-AppxModels.User.1', false],
    ['private-a+b', 'private-a+b', true],
    ['private-a+b', 'private-aab', false],
    ['*', 'private-orders.1', false],
    ['**', 'private-orders.1', true],
  ];
  for (const [pattern, channel, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${channel}`, () => {
      assert.equal(channelPatternMatches(pattern, channel), expected);
    });
  }
});

describe('grantsChannel', () => {
  it('reads an array of patterns or a single pattern from the named claim', () => {
    assert.equal(grantsChannel({ channels: ['private-a.*', 'private-b.*'] }, 'channels', 'private-b.1'), true);
    assert.equal(grantsChannel({ channels: 'private-b.*' }, 'channels', 'private-b.1'), true);
    assert.equal(grantsChannel({ rooms: ['private-b.*'] }, 'rooms', 'private-b.1'), true);
  });

  it('grants nothing without the claim or with junk in it', () => {
    assert.equal(grantsChannel({}, 'channels', 'private-b.1'), false);
    assert.equal(grantsChannel({ channels: [1, null, { p: 'x' }] }, 'channels', 'private-b.1'), false);
    assert.equal(grantsChannel({ channels: true }, 'channels', 'private-b.1'), false);
  });
});

describe('findToken', () => {
  it("prefers the subscribe's Authorization header (any case)", () => {
    const r = request({
      headers: { authorization: 'Bearer from-subscribe' },
      handshakeAuth: { token: 'from-connect', headers: { Authorization: 'Bearer from-connect-headers' } },
    });
    assert.equal(findToken(r), 'from-subscribe');
  });

  it('then the CONNECT auth.token, then the CONNECT auth.headers.Authorization', () => {
    assert.equal(findToken(request({ handshakeAuth: { token: 't1', headers: { Authorization: 'Bearer t2' } } })), 't1');
    assert.equal(findToken(request({ handshakeAuth: { headers: { Authorization: 'Bearer t2' } } })), 't2');
    assert.equal(findToken(request()), undefined);
  });

  it('only takes Bearer credentials', () => {
    assert.equal(bearer('Bearer abc'), 'abc');
    assert.equal(bearer('bearer  abc '), 'abc');
    assert.equal(bearer('Basic abc'), undefined);
    assert.equal(bearer('Bearer a b'), undefined);
    assert.equal(bearer(42), undefined);
    assert.equal(findToken(request({ headers: { Authorization: 'Basic x' }, handshakeAuth: { token: 7 } })), undefined);
  });
});

describe('channelDataFromClaims', () => {
  it('user_id from user_id, else sub; user_info from the named claim', () => {
    assert.deepEqual(channelDataFromClaims({ sub: '42', user_info: { name: 'Ann' } }, 'user_info'), {
      user_id: '42',
      user_info: { name: 'Ann' },
    });
    assert.deepEqual(channelDataFromClaims({ sub: '42', user_id: 42, profile: { a: 1 } }, 'profile'), {
      user_id: 42,
      user_info: { a: 1 },
    });
    assert.deepEqual(channelDataFromClaims({ sub: 'x' }, 'user_info'), { user_id: 'x', user_info: null });
  });

  it('nothing without a user', () => {
    assert.equal(channelDataFromClaims({ channels: [] }, 'user_info'), undefined);
  });
});
