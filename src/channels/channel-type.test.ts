import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import {
  channelNameProblem,
  channelType,
  isCacheChannel,
  isValidChannelName,
  requiresAuthorization,
  serverToUserId,
} from './channel-type.js';

describe('channelType', () => {
  it('reads the type from a prefix anchored at the start', () => {
    assert.equal(channelType('orders'), 'public');
    assert.equal(channelType('private-orders.1'), 'private');
    assert.equal(channelType('private-encrypted-chat.2'), 'private-encrypted');
    assert.equal(channelType('presence-room.3'), 'presence');
    assert.equal(channelType('orders-private-x'), 'public');
    assert.equal(channelType('xpresence-room'), 'public');
  });

  it('reads cache channels as the type they are without the cache', () => {
    assert.equal(channelType('cache-scores'), 'public');
    assert.equal(channelType('private-cache-scores'), 'private');
    assert.equal(channelType('private-encrypted-cache-scores'), 'private-encrypted');
    assert.equal(channelType('presence-cache-scores'), 'presence');
  });

  it('knows cache channels by a cache- prefix anchored after the type', () => {
    for (const yes of ['cache-a', 'private-cache-a', 'private-encrypted-cache-a', 'presence-cache-a', 'cache-'])
      assert.equal(isCacheChannel(yes), true, yes);
    for (const no of [
      'cache',
      'scores-cache-a',
      'xcache-a',
      'presence-private-cache-a',
      'private-presence-cache-a',
      'Cache-a',
    ])
      assert.equal(isCacheChannel(no), false, no);
  });

  it('requires authorisation for every non-public type', () => {
    assert.deepEqual(['orders', 'private-a', 'private-encrypted-b', 'presence-c'].map(requiresAuthorization), [
      false,
      true,
      true,
      true,
    ]);
  });

  it('accepts Laravel channel names and refuses unusable ones', () => {
    for (const ok of ['orders', 'App.Models.User.1', 'private-orders.1', 'ünïcode', 'emoji.😀', 'replaced.\ufffd'])
      assert.equal(isValidChannelName(ok), true, ok);
    for (const bad of [
      '',
      'a b',
      'tab\there',
      'x'.repeat(201),
      42,
      null,
      'lone.\ud800',
      '\udc00',
      'half.😀'.slice(0, -1),
    ])
      assert.equal(isValidChannelName(bad), false, String(bad));
  });

  it('says what is wrong with an unusable name', () => {
    assert.equal(channelNameProblem('orders'), undefined);
    assert.equal(channelNameProblem(42), 'not a string');
    assert.equal(channelNameProblem(''), 'empty');
    assert.equal(channelNameProblem('x'.repeat(201)), 'longer than 200 characters');
    assert.equal(channelNameProblem('a b'), 'one with spaces or control characters');
    assert.equal(channelNameProblem('lone.\ud800'), 'not well-formed Unicode (it holds a lone UTF-16 surrogate)');
  });
});

describe('serverToUserId', () => {
  it("names the user of Pusher's #server-to-user- channels, anchored, and nobody for any other", () => {
    assert.equal(serverToUserId('#server-to-user-1'), '1');
    assert.equal(serverToUserId('#server-to-user-a.b-c'), 'a.b-c');
    for (const other of [
      '#server-to-user-',
      'server-to-user-1',
      'x#server-to-user-1',
      '#server-to-users',
      'private-1',
    ]) {
      assert.equal(serverToUserId(other), undefined, other);
    }
  });
});
