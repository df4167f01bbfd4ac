import { describe, expect, it } from '@jest/globals';
import { bearerToken, stringHeaders } from './http-headers.js';

describe('bearerToken', () => {
  it('reads the token of a Bearer credential, whatever the case of the scheme', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('BEARER abc')).toBe('abc');
  });

  it('takes nothing else: other schemes, two tokens, no token, not a string', () => {
    for (const value of ['Basic abc', 'Bearer a b', 'Bearer', 'Bearer ', ' Bearer abc', '', 42, undefined, null]) {
      expect(bearerToken(value)).toBe(undefined);
    }
  });
});

describe('stringHeaders', () => {
  it('keeps string and number values, as strings', () => {
    expect(stringHeaders({ headers: { Authorization: 'Bearer t', 'X-Count': 3, 'X-Empty': '' } })).toEqual({
      Authorization: 'Bearer t',
      'X-Count': '3',
      'X-Empty': '',
    });
  });

  it('drops values of any other type', () => {
    expect(stringHeaders({ headers: { a: true, b: null, c: ['x'], d: { e: 1 }, f: undefined, g: 'kept' } })).toEqual({
      g: 'kept',
    });
  });

  it('is empty when there is no headers object', () => {
    for (const auth of [undefined, null, 'x', [], {}, { headers: 'x' }, { headers: ['a'] }, { headers: null }]) {
      expect(stringHeaders(auth)).toEqual({});
    }
  });
});
