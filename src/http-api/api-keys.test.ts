import { describe, expect, it } from '@jest/globals';
import { ApiKeys, keyFromRequest } from './api-keys.js';

describe('ApiKeys', () => {
  const keys = new ApiKeys([
    { appId: 'shop', key: 'shop-key' },
    { appId: 'blog', key: 'blog-key' },
    { appId: 'shop', key: 'shop-key-2' },
  ]);

  it('allows the key of the app named in the path', () => {
    expect(keys.allows('shop', 'shop-key')).toBe(true);
    expect(keys.allows('blog', 'blog-key')).toBe(true);
  });

  it('allows every key configured for one app', () => {
    expect(keys.allows('shop', 'shop-key-2')).toBe(true);
  });

  it("refuses another app's key", () => {
    expect(keys.allows('shop', 'blog-key')).toBe(false);
    expect(keys.allows('blog', 'shop-key')).toBe(false);
  });

  it('refuses wrong, partial, longer and missing keys', () => {
    for (const key of ['nope', 'shop-ke', 'shop-key ', 'shop-keyy', 'SHOP-KEY', '', undefined]) {
      expect(keys.allows('shop', key)).toBe(false);
    }
  });

  it('refuses unknown apps', () => {
    expect(keys.allows('other', 'shop-key')).toBe(false);
  });

  it('refuses everything when no clients are configured', () => {
    const none = new ApiKeys([]);
    expect(none.allows('shop', 'shop-key')).toBe(false);
    expect(none.allows('', '')).toBe(false);
  });
});

describe('keyFromRequest', () => {
  it('reads a Bearer token, whatever the case of the scheme', () => {
    expect(keyFromRequest('Bearer abc', undefined)).toBe('abc');
    expect(keyFromRequest('bearer abc', undefined)).toBe('abc');
    expect(keyFromRequest('Bearer   abc  ', undefined)).toBe('abc');
  });

  it('prefers the header over ?auth_key, as the old server did', () => {
    expect(keyFromRequest('Bearer header-key', 'query-key')).toBe('header-key');
  });

  it('falls back to ?auth_key when there is no Bearer header', () => {
    expect(keyFromRequest(undefined, 'query-key')).toBe('query-key');
    expect(keyFromRequest('Basic dXNlcjpwdw==', 'query-key')).toBe('query-key');
  });

  it('ignores repeated or empty auth_key parameters', () => {
    expect(keyFromRequest(undefined, ['a', 'b'])).toBe(undefined);
    expect(keyFromRequest(undefined, '')).toBe(undefined);
    expect(keyFromRequest('Bearer', undefined)).toBe(undefined);
    expect(keyFromRequest(undefined, undefined)).toBe(undefined);
  });
});
