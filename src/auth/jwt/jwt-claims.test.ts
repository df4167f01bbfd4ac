import { describe, expect, it } from '@jest/globals';
import type { AuthRequest } from '../channel-authorizer.js';
import { channelDataFromClaims, channelPatternMatches, findToken, grantsChannel } from './jwt-claims.js';

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
      expect(channelPatternMatches(pattern, channel)).toBe(expected);
    });
  }
});

describe('grantsChannel', () => {
  it('reads an array of patterns or a single pattern from the named claim', () => {
    expect(grantsChannel({ channels: ['private-a.*', 'private-b.*'] }, 'channels', 'private-b.1')).toBe(true);
    expect(grantsChannel({ channels: 'private-b.*' }, 'channels', 'private-b.1')).toBe(true);
    expect(grantsChannel({ rooms: ['private-b.*'] }, 'rooms', 'private-b.1')).toBe(true);
  });

  it('grants nothing without the claim or with junk in it', () => {
    expect(grantsChannel({}, 'channels', 'private-b.1')).toBe(false);
    expect(grantsChannel({ channels: [1, null, { p: 'x' }] }, 'channels', 'private-b.1')).toBe(false);
    expect(grantsChannel({ channels: true }, 'channels', 'private-b.1')).toBe(false);
  });
});

describe('findToken', () => {
  it("prefers the subscribe's Authorization header (any case)", () => {
    const r = request({
      headers: { authorization: 'Bearer from-subscribe' },
      handshakeAuth: { token: 'from-connect', headers: { Authorization: 'Bearer from-connect-headers' } },
    });
    expect(findToken(r)).toBe('from-subscribe');
  });

  it('then the CONNECT auth.token, then the CONNECT auth.headers.Authorization', () => {
    expect(findToken(request({ handshakeAuth: { token: 't1', headers: { Authorization: 'Bearer t2' } } }))).toBe('t1');
    expect(findToken(request({ handshakeAuth: { headers: { Authorization: 'Bearer t2' } } }))).toBe('t2');
    expect(findToken(request())).toBe(undefined);
  });

  it('only takes Bearer credentials', () => {
    expect(findToken(request({ headers: { Authorization: 'bearer  abc ' } }))).toBe('abc');
    expect(findToken(request({ headers: { Authorization: 'Bearer a b' } }))).toBe(undefined);
    expect(findToken(request({ headers: { Authorization: 'Basic x' }, handshakeAuth: { token: 7 } }))).toBe(undefined);
  });

  it('refuses tokens longer than 16 KiB, from a header as from the CONNECT payload', () => {
    const longest = 'a'.repeat(16 * 1024);
    expect(findToken(request({ headers: { Authorization: `Bearer ${longest}` } }))).toBe(longest);
    expect(findToken(request({ headers: { Authorization: `Bearer ${longest}a` } }))).toBe(undefined);
    expect(findToken(request({ handshakeAuth: { token: `${longest}a` } }))).toBe(undefined);
  });
});

describe('channelDataFromClaims', () => {
  it('user_id from user_id, else sub; user_info from the named claim', () => {
    expect(channelDataFromClaims({ sub: '42', user_info: { name: 'Ann' } }, 'user_info')).toEqual({
      user_id: '42',
      user_info: { name: 'Ann' },
    });
    expect(channelDataFromClaims({ sub: '42', user_id: 42, profile: { a: 1 } }, 'profile')).toEqual({
      user_id: 42,
      user_info: { a: 1 },
    });
    expect(channelDataFromClaims({ sub: 'x' }, 'user_info')).toEqual({ user_id: 'x', user_info: null });
  });

  it('nothing without a user', () => {
    expect(channelDataFromClaims({ channels: [] }, 'user_info')).toBe(undefined);
  });
});
