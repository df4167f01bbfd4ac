import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { toPresenceMember, userKey } from './presence-member.js';

describe('toPresenceMember', () => {
  it('keeps user_id and user_info only', () => {
    assert.deepEqual(toPresenceMember({ user_id: 42, user_info: { name: 'Ann' }, socket_id: 'leak', extra: 1 }), {
      user_id: 42,
      user_info: { name: 'Ann' },
    });
  });

  it('accepts channel_data as a JSON string, and a missing user_info as null', () => {
    assert.deepEqual(toPresenceMember('{"user_id":"u-1"}'), { user_id: 'u-1', user_info: null });
  });

  it('refuses data without a usable user_id', () => {
    for (const data of [
      undefined,
      null,
      true,
      'true',
      '{',
      [],
      {},
      { user_id: null },
      { user_id: '' },
      { user_id: {} },
    ]) {
      assert.equal(toPresenceMember(data), undefined, JSON.stringify(data));
    }
    assert.equal(toPresenceMember({ user_id: Number.NaN }), undefined);
    assert.equal(toPresenceMember({ user_id: 'x'.repeat(192) }), undefined);
  });

  it('one key per user id, whether Laravel sent it as a number or a string', () => {
    assert.equal(userKey({ user_id: 42 }), userKey({ user_id: '42' }));
  });
});
