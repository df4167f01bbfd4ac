import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { normalizeOrigin } from './api-cors.js';

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
