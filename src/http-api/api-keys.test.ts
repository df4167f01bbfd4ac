import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { ApiKeys, keyFromRequest } from './api-keys.js';

describe('ApiKeys', () => {
  const keys = new ApiKeys([
    { appId: 'shop', key: 'shop-key' },
    { appId: 'blog', key: 'blog-key' },
    { appId: 'shop', key: 'shop-key-2' },
  ]);

  it('allows the key of the app named in the path', () => {
    assert.equal(keys.allows('shop', 'shop-key'), true);
    assert.equal(keys.allows('blog', 'blog-key'), true);
  });

  it('allows every key configured for one app', () => {
    assert.equal(keys.allows('shop', 'shop-key-2'), true);
  });

  it("refuses another app's key", () => {
    assert.equal(keys.allows('shop', 'blog-key'), false);
    assert.equal(keys.allows('blog', 'shop-key'), false);
  });

  it('refuses wrong, partial, longer and missing keys', () => {
    for (const key of ['nope', 'shop-ke', 'shop-key ', 'shop-keyy', 'SHOP-KEY', '', undefined]) {
      assert.equal(keys.allows('shop', key), false, `key ${JSON.stringify(key)}`);
    }
  });

  it('refuses unknown apps', () => {
    assert.equal(keys.allows('other', 'shop-key'), false);
  });

  it('refuses everything when no clients are configured', () => {
    const none = new ApiKeys([]);
    assert.equal(none.empty, true);
    assert.equal(none.allows('shop', 'shop-key'), false);
    assert.equal(none.allows('', ''), false);
  });
});

describe('keyFromRequest', () => {
  it('reads a Bearer token, whatever the case of the scheme', () => {
    assert.equal(keyFromRequest('Bearer abc', undefined), 'abc');
    assert.equal(keyFromRequest('bearer abc', undefined), 'abc');
    assert.equal(keyFromRequest('Bearer   abc  ', undefined), 'abc');
  });

  it('prefers the header over ?auth_key, as the old server did', () => {
    assert.equal(keyFromRequest('Bearer header-key', 'query-key'), 'header-key');
  });

  it('falls back to ?auth_key when there is no Bearer header', () => {
    assert.equal(keyFromRequest(undefined, 'query-key'), 'query-key');
    assert.equal(keyFromRequest('Basic dXNlcjpwdw==', 'query-key'), 'query-key');
  });

  it('ignores repeated or empty auth_key parameters', () => {
    assert.equal(keyFromRequest(undefined, ['a', 'b']), undefined);
    assert.equal(keyFromRequest(undefined, ''), undefined);
    assert.equal(keyFromRequest('Bearer', undefined), undefined);
    assert.equal(keyFromRequest(undefined, undefined), undefined);
  });
});
