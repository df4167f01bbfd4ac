import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { interpretAuthResponse, parseAuthBody } from './auth-response.js';

describe('parseAuthBody', () => {
  it('reads JSON whatever the content type said', () => {
    assert.equal(parseAuthBody('true'), true);
    assert.equal(parseAuthBody(' true\n'), true);
    assert.equal(parseAuthBody('\uFEFFtrue'), true);
    assert.deepEqual(parseAuthBody('{"channel_data":{"user_id":1}}'), { channel_data: { user_id: 1 } });
  });

  it('keeps what is not JSON as text', () => {
    assert.equal(parseAuthBody('<html>login</html>'), '<html>login</html>');
    assert.equal(parseAuthBody(''), '');
  });
});

describe('interpretAuthResponse', () => {
  it('200 `true` allows a private channel without channel data', () => {
    assert.deepEqual(interpretAuthResponse(200, 'true'), { outcome: 'allowed', status: 200, channelData: undefined });
  });

  it('200 with channel_data carries it on (object or Pusher-style JSON string)', () => {
    const object = '{"channel_data":{"user_id":42,"user_info":{"name":"Ann"}}}';
    assert.deepEqual(interpretAuthResponse(200, object), {
      outcome: 'allowed',
      status: 200,
      channelData: { user_id: 42, user_info: { name: 'Ann' } },
    });
    const string = JSON.stringify({ channel_data: '{"user_id":"7"}' });
    assert.deepEqual(interpretAuthResponse(200, string), {
      outcome: 'allowed',
      status: 200,
      channelData: '{"user_id":"7"}',
    });
  });

  it('any other status denies with that status, whatever the body', () => {
    for (const status of [201, 204, 302, 401, 403, 404, 419, 500, 503]) {
      const result = interpretAuthResponse(status, 'true');
      assert.equal(result.outcome, 'denied');
      assert.equal(result.status, status);
    }
  });
});
