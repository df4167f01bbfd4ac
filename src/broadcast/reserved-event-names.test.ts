import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { reservedBy } from './reserved-event-names.js';

describe('reservedBy', () => {
  it('names the library that keeps each reserved name', () => {
    assert.equal(reservedBy('disconnect'), 'socket.io');
    assert.equal(reservedBy('newListener'), 'socket.io');
    // socket.io-client 2 reserves `connect` too; the server refusing it is what a publisher meets first.
    assert.equal(reservedBy('connect'), 'socket.io');
    for (const name of ['error', 'reconnect', 'reconnect_attempt', 'connecting', 'ping', 'pong']) {
      assert.equal(reservedBy(name), 'socket.io-client 2', name);
    }
    for (const name of ['presence:subscribed', 'presence:joining', 'presence:leaving', 'subscription_error']) {
      assert.equal(reservedBy(name), "Laravel Echo's socket.io connector", name);
    }
    for (const name of ['pusher:error', 'pusher:ping', 'pusher_internal:member_added', 'pusher:']) {
      assert.equal(reservedBy(name), 'the Pusher protocol (pusher-js)', name);
    }
  });

  it('leaves every other name to the publisher, lookalikes included', () => {
    const free = [
      'App\\Events\\Error',
      'error.raised',
      'Error',
      'errors',
      'presence:other',
      'pusher-error',
      'client-x',
    ];
    for (const name of free) assert.equal(reservedBy(name), undefined, name);
    // Object.prototype's names are no entries of the map.
    for (const name of ['constructor', 'toString', '__proto__']) assert.equal(reservedBy(name), undefined, name);
  });
});
