import { describe, expect, it } from '@jest/globals';
import { BroadcastBatchValidationPipe, validateIncoming } from './broadcast-validation.pipe.js';
import type { BroadcastDto } from './broadcast.dto.js';
import { LaravelDeserializer, type IncomingBroadcast } from './laravel.deserializer.js';
import { validateBroadcast } from './validate-broadcast.js';

const deserializer = new LaravelDeserializer({ prefix: 'laravel_database_', maxMessageBytes: 1024 });

function incoming(channel: string, payload: string | Buffer): IncomingBroadcast {
  return deserializer.deserialize(Buffer.from(payload), { channel }).data as IncomingBroadcast;
}

function ingest(channel: string, payload: string | Buffer): BroadcastDto {
  const result = validateIncoming(incoming(channel, payload));
  if (!result.ok) throw new Error(`dropped: ${result.drop.reason} (${result.drop.detail})`);
  return result.broadcast;
}

function reason(payload: string | Buffer, channel = 'c'): string {
  const result = validateIncoming(incoming(channel, payload));
  return result.ok ? 'accepted' : result.drop.reason;
}

describe('Redis payload to BroadcastDto', () => {
  it('keeps event, data and socket and strips the prefix once', () => {
    const data = { order: { id: 1 }, socket: 'abc' };
    const dto = ingest('laravel_database_orders', JSON.stringify({ event: 'App\\Events\\Paid', data, socket: 'abc' }));
    expect({ ...dto }).toStrictEqual({ channel: 'orders', event: 'App\\Events\\Paid', data, socket: 'abc' });
  });

  it('does not strip a prefix that is not at the start', () => {
    expect(ingest('orders_laravel_database_', '{"event":"e","data":{}}').channel).toBe('orders_laravel_database_');
  });

  it('accepts [] as data, null or absent socket, and Laravel 5.2 payloads', () => {
    expect(ingest('c', '{"event":"e","data":[],"socket":null}').data).toStrictEqual([]);
    expect(ingest('c', '{"event":"e","data":{}}').socket).toBeUndefined();
  });

  it('refuses each kind of malformed payload with its own reason', () => {
    expect(reason('{"event":"e","data":"s"}')).toBe('invalid_data');
    expect(reason('{"event":["e"],"data":{}}')).toBe('invalid_event');
    expect(reason('{"event":"connect","data":{}}')).toBe('invalid_event');
    expect(reason('{"event":"e","data":{},"socket":5}')).toBe('invalid_socket');
    expect(reason('{"event":"e"')).toBe('invalid_json');
    expect(reason('7')).toBe('not_an_object');
    expect(reason('x'.repeat(2000))).toBe('too_large');
    expect(reason(Buffer.from([0xc3, 0x28]))).toBe('invalid_utf8');
    expect(reason('{"event":"e","data":{}}', 'laravel_database_')).toBe('invalid_channel');
    expect(reason(`{"event":"e","data":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`)).toBe('too_deep');
  });

  it('refuses a field of the wrong type for its type alone, not for a length it cannot have', () => {
    const detail = (payload: string): string => {
      const result = validateIncoming(incoming('c', payload));
      return result.ok ? 'accepted' : result.drop.detail;
    };
    for (const socket of ['5', '{"id":1}', '["a"]', 'true']) {
      expect(detail(`{"event":"e","data":{},"socket":${socket}}`)).toBe('socket must be a string');
    }
    for (const event of ['42', '{"a":1}', 'null']) {
      expect(detail(`{"event":${event},"data":{}}`)).toBe('event must be a string');
    }
    expect(detail('{"data":{}}')).toBe('event must be a string');
    expect(detail('{"event":"e","data":7}')).toBe('data must be an object or an array');
    // A string of the wrong length is still refused for its length.
    expect(detail(`{"event":"e","data":{},"socket":"${'x'.repeat(101)}"}`)).toBe(
      'socket must be shorter than or equal to 100 characters',
    );
  });

  it('refuses a Redis channel name that is no UTF-8, and no other name with U+FFFD in it', () => {
    const prefixed = (tail: number[]): Buffer => Buffer.concat([Buffer.from('laravel_database_c.'), Buffer.from(tail)]);
    const from = (bytes: Buffer): IncomingBroadcast =>
      deserializer.deserialize(Buffer.from('{"event":"e","data":{}}'), {
        channel: bytes.toString(),
        channelBytes: bytes,
      }).data as IncomingBroadcast;
    const surrogate = validateIncoming(from(prefixed([0xed, 0xa0, 0x80])));
    expect(surrogate).toStrictEqual({
      ok: false,
      drop: {
        reason: 'invalid_channel',
        channel: 'c.\ufffd\ufffd\ufffd',
        detail: 'the Redis channel name is not valid UTF-8',
      },
    });
    expect(validateIncoming(from(prefixed([0xff]))).ok).toBe(false);
    // U+FFFD itself, sent as UTF-8, is a character like any other.
    expect(validateIncoming(from(prefixed([0xef, 0xbf, 0xbd])))).toMatchObject({ ok: true });
  });

  it('says why a channel name is unusable', () => {
    const result = validateBroadcast('lone.\ud800', { event: 'e', data: {} });
    expect(result).toStrictEqual({
      ok: false,
      drop: {
        reason: 'invalid_channel',
        channel: 'lone.\ud800',
        detail: 'unusable channel name: not well-formed Unicode (it holds a lone UTF-16 surrogate)',
      },
    });
  });

  it('returns a drop as a plain value with the channel and what was wrong', () => {
    const result = validateIncoming(incoming('laravel_database_orders', '{"event":"connect","data":{}}'));
    expect(result.ok).toBe(false);
    expect(result).toStrictEqual({
      ok: false,
      drop: { reason: 'invalid_event', channel: 'orders', detail: expect.stringContaining('event') },
    });
  });

  it('passes data through without copying it', () => {
    const dto = ingest('c', '{"event":"e","data":{"a":{"b":[1,2]}}}');
    expect(dto.data).toStrictEqual({ a: { b: [1, 2] } });
  });

  it('validates each message of a batch on its own and keeps their order', () => {
    const read = [
      '{"event":"e","data":{"n":1}}',
      'not json',
      '{"event":"e","data":{"n":2}}',
      '{"event":"connect","data":{}}',
      '{"event":"e","data":{"n":3}}',
    ].map((payload, i) => incoming(`laravel_database_c${i}`, payload));
    const batch = new BroadcastBatchValidationPipe().transform(read);
    expect(
      batch.accepted.map(({ broadcast, redisChannel }) => [broadcast.channel, broadcast.data, redisChannel]),
    ).toStrictEqual([
      ['c0', { n: 1 }, 'laravel_database_c0'],
      ['c2', { n: 2 }, 'laravel_database_c2'],
      ['c4', { n: 3 }, 'laravel_database_c4'],
    ]);
    expect(batch.dropped.map(({ drop, redisChannel }) => [drop.reason, drop.channel, redisChannel])).toStrictEqual([
      ['invalid_json', 'c1', 'laravel_database_c1'],
      ['invalid_event', 'c3', 'laravel_database_c3'],
    ]);
  });
});
