import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { phpJsonEncode } from './laravel-publisher.js';

describe('phpJsonEncode (the test publisher imitates PHP exactly)', () => {
  it('escapes slashes and non-ASCII like json_encode', () => {
    assert.equal(phpJsonEncode({ url: 'a/b', t: 'é😀' }), '{"url":"a\\/b","t":"\\u00e9\\ud83d\\ude00"}');
    assert.deepEqual(JSON.parse(phpJsonEncode({ t: 'é😀' })), { t: 'é😀' });
  });
});
