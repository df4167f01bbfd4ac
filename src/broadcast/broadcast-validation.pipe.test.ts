import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { BroadcastBatchValidationPipe, toBroadcast } from './broadcast-validation.pipe.js';
import { DroppedMessage } from './dropped-message.js';
import { LaravelDeserializer, type IncomingBroadcast } from './laravel.deserializer.js';

const deserializer = new LaravelDeserializer({ prefix: 'laravel_database_', maxMessageBytes: 1024 });

function ingest(channel: string, payload: string | Buffer) {
  const packet = deserializer.deserialize(Buffer.from(payload), { channel });
  return toBroadcast(packet.data as Parameters<typeof toBroadcast>[0]);
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DroppedMessage);
    return err.reason;
  }
  return 'accepted';
}

describe('Redis payload to BroadcastDto', () => {
  it('keeps event, data and socket and strips the prefix once', () => {
    const data = { order: { id: 1 }, socket: 'abc' };
    const dto = ingest('laravel_database_orders', JSON.stringify({ event: 'App\\Events\\Paid', data, socket: 'abc' }));
    assert.deepEqual({ ...dto }, { channel: 'orders', event: 'App\\Events\\Paid', data, socket: 'abc' });
  });

  it('does not strip a prefix that is not at the start', () => {
    assert.equal(ingest('orders_laravel_database_', '{"event":"e","data":{}}').channel, 'orders_laravel_database_');
  });

  it('accepts [] as data, null or absent socket, and Laravel 5.2 payloads', () => {
    assert.deepEqual(ingest('c', '{"event":"e","data":[],"socket":null}').data, []);
    assert.equal(ingest('c', '{"event":"e","data":{}}').socket, undefined);
  });

  it('refuses each kind of malformed payload with its own reason', () => {
    assert.equal(
      reason(() => ingest('c', '{"event":"e","data":"s"}')),
      'invalid_data',
    );
    assert.equal(
      reason(() => ingest('c', '{"event":["e"],"data":{}}')),
      'invalid_event',
    );
    assert.equal(
      reason(() => ingest('c', '{"event":"connect","data":{}}')),
      'invalid_event',
    );
    assert.equal(
      reason(() => ingest('c', '{"event":"e","data":{},"socket":5}')),
      'invalid_socket',
    );
    assert.equal(
      reason(() => ingest('c', '{"event":"e"')),
      'invalid_json',
    );
    assert.equal(
      reason(() => ingest('c', '7')),
      'not_an_object',
    );
    assert.equal(
      reason(() => ingest('c', 'x'.repeat(2000))),
      'too_large',
    );
    assert.equal(
      reason(() => ingest('c', Buffer.from([0xc3, 0x28]))),
      'invalid_utf8',
    );
    assert.equal(
      reason(() => ingest('laravel_database_', '{"event":"e","data":{}}')),
      'invalid_channel',
    );
    assert.equal(
      reason(() => ingest('c', `{"event":"e","data":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`)),
      'too_deep',
    );
  });

  it('passes data through without copying it', () => {
    const dto = ingest('c', '{"event":"e","data":{"a":{"b":[1,2]}}}');
    assert.deepEqual(dto.data, { a: { b: [1, 2] } });
  });

  it('validates each message of a batch on its own and keeps their order', () => {
    const read = [
      '{"event":"e","data":{"n":1}}',
      'not json',
      '{"event":"e","data":{"n":2}}',
      '{"event":"connect","data":{}}',
      '{"event":"e","data":{"n":3}}',
    ].map(
      (payload, i) =>
        deserializer.deserialize(Buffer.from(payload), { channel: `laravel_database_c${i}` }).data as IncomingBroadcast,
    );
    const batch = new BroadcastBatchValidationPipe().transform(read);
    assert.deepEqual(
      batch.accepted.map(({ broadcast, redisChannel }) => [broadcast.channel, broadcast.data, redisChannel]),
      [
        ['c0', { n: 1 }, 'laravel_database_c0'],
        ['c2', { n: 2 }, 'laravel_database_c2'],
        ['c4', { n: 3 }, 'laravel_database_c4'],
      ],
    );
    assert.deepEqual(
      batch.dropped.map(({ drop, redisChannel }) => [drop.reason, drop.channel, redisChannel]),
      [
        ['invalid_json', 'c1', 'laravel_database_c1'],
        ['invalid_event', 'c3', 'laravel_database_c3'],
      ],
    );
  });
});
