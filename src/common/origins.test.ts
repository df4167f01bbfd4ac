import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { isSameOrigin, legacySocketioOrigins, normalizeOrigin, originAllowList } from './origins.js';

describe('normalizeOrigin', () => {
  it('drops default ports, so the old README value http://localhost:80 matches browsers', () => {
    assert.equal(normalizeOrigin('http://localhost:80'), 'http://localhost');
    assert.equal(normalizeOrigin('https://app.test:443'), 'https://app.test');
  });

  it('keeps other ports and lower-cases the host', () => {
    assert.equal(normalizeOrigin('http://Localhost:8080'), 'http://localhost:8080');
  });

  it('drops a trailing slash or path', () => {
    assert.equal(normalizeOrigin('https://app.test/'), 'https://app.test');
  });

  it('leaves * and opaque origins alone', () => {
    assert.equal(normalizeOrigin('*'), '*');
    assert.equal(normalizeOrigin('null'), 'null');
  });
});

describe('originAllowList', () => {
  const allows = (entries: string[], origin: string): boolean => originAllowList(entries).allows(origin);

  it('matches browser origins against configured ones spelled with default ports, case or a trailing slash', () => {
    assert.equal(allows(['http://good.test:80'], 'http://good.test'), true);
    assert.equal(allows(['https://App.Test/'], 'https://app.test'), true);
    assert.equal(allows(['HTTPS://app.test:443'], 'https://app.test'), true);
    assert.equal(allows(['https://app.test'], 'http://app.test'), false);
    assert.equal(allows(['https://app.test'], 'https://app.test:8443'), false);
    assert.equal(allows(['https://app.test'], 'https://app.test.evil.test'), false);
  });

  it('reads socket.io 2 host:port entries as any scheme on that host and effective port', () => {
    assert.equal(allows(['app.example.com:443'], 'https://app.example.com'), true);
    assert.equal(allows(['app.example.com:443'], 'https://App.Example.com:443'), true);
    assert.equal(allows(['app.example.com:443'], 'http://app.example.com:443'), true);
    assert.equal(allows(['app.example.com:443'], 'http://app.example.com'), false);
    assert.equal(allows(['app.example.com:443'], 'https://evil.example.com'), false);
    assert.equal(allows(['localhost:8080'], 'http://localhost:8080'), true);
  });

  it('reads *:port, host:* and scheme://host:* wildcards', () => {
    assert.equal(allows(['*:443'], 'https://anything.test'), true);
    assert.equal(allows(['*:443'], 'http://anything.test'), false);
    assert.equal(allows(['app.test:*'], 'http://app.test:3000'), true);
    assert.equal(allows(['app.test:*'], 'https://app.test'), true);
    assert.equal(allows(['app.test:*'], 'https://other.test'), false);
    assert.equal(allows(['https://app.test:*'], 'http://app.test'), false);
    assert.equal(allows(['https://app.test:*'], 'https://app.test:8443'), true);
  });

  it('takes a bare host as its default ports on http and https', () => {
    assert.equal(allows(['app.test'], 'https://app.test'), true);
    assert.equal(allows(['app.test'], 'http://app.test'), true);
    assert.equal(allows(['app.test'], 'http://app.test:8080'), false);
  });

  it('allows any origin for * and *:*, and nothing for an empty list', () => {
    assert.equal(originAllowList(['*:*']).any, true);
    assert.equal(originAllowList(['*']).any, true);
    assert.equal(allows(['*:*'], 'https://whatever.test'), true);
    assert.equal(originAllowList([]).any, false);
    assert.equal(allows([], 'https://whatever.test'), false);
  });

  it('never matches null, garbage or non-web schemes, and reports unusable entries', () => {
    assert.equal(allows(['app.test:443'], 'null'), false);
    assert.equal(allows(['app.test:443'], 'not an origin'), false);
    assert.equal(allows(['*:443'], 'ftp://app.test:443'), false);
    assert.deepEqual(originAllowList(['app.test:443', 'ftp://x.test', 'a b', 'x.test:99999']).invalid, [
      'ftp://x.test',
      'a b',
      'x.test:99999',
    ]);
  });

  it('matches IPv6 literals', () => {
    assert.equal(allows(['http://[::1]:8080'], 'http://[::1]:8080'), true);
    assert.equal(allows(['[::1]:8080'], 'http://[::1]:8080'), true);
  });
});

describe('legacySocketioOrigins', () => {
  it('splits socket.io 2 strings on spaces and takes arrays', () => {
    assert.deepEqual(legacySocketioOrigins('app.example.com:443'), ['app.example.com:443']);
    assert.deepEqual(legacySocketioOrigins(' a.test:443  b.test:80 '), ['a.test:443', 'b.test:80']);
    assert.deepEqual(legacySocketioOrigins(['a.test:443', 'https://b.test']), ['a.test:443', 'https://b.test']);
    assert.deepEqual(legacySocketioOrigins('*:*'), ['*:*']);
  });

  it('refuses anything else', () => {
    assert.equal(legacySocketioOrigins(443), undefined);
    assert.equal(legacySocketioOrigins({ a: 1 }), undefined);
    assert.equal(legacySocketioOrigins(['a.test', 1]), undefined);
  });
});

describe('isSameOrigin', () => {
  it('matches an origin to the Host header of the request, default ports spelled or not', () => {
    assert.equal(isSameOrigin('http://127.0.0.1:6001', '127.0.0.1:6001'), true);
    assert.equal(isSameOrigin('https://Relay.Example', 'relay.example'), true);
    assert.equal(isSameOrigin('https://relay.example', 'relay.example:443'), true);
    assert.equal(isSameOrigin('http://[::1]:6001', '[::1]:6001'), true);
  });

  it('refuses another host or port, a missing Host, garbage and hosts carrying more than a host', () => {
    assert.equal(isSameOrigin('http://evil.test', 'relay.example'), false);
    assert.equal(isSameOrigin('http://relay.example:8080', 'relay.example'), false);
    assert.equal(isSameOrigin('https://relay.example', 'relay.example:80'), false);
    assert.equal(isSameOrigin('http://relay.example', undefined), false);
    assert.equal(isSameOrigin('null', 'relay.example'), false);
    assert.equal(isSameOrigin('http://relay.example', 'evil.test@relay.example'), false);
    assert.equal(isSameOrigin('http://relay.example', 'relay.example/x'), false);
  });
});
