import { describe, expect, it } from '@jest/globals';
import { DroppedMessage } from '../http-api/dropped-message.js';
import { socketIoData } from '../broadcast/string-data.js';
import { parsePusherBatch, parsePusherEvent } from './pusher-events.js';

const LIMIT = 1000;

function refusal(parse: () => unknown): string {
  try {
    parse();
  } catch (err) {
    if (err instanceof DroppedMessage) return `${err.reason}: ${err.message}`;
    throw err;
  }
  throw new Error('not refused');
}

describe('socketIoData', () => {
  it('parses JSON of an object or array, and keeps any other string as it is', () => {
    expect(socketIoData('{"order":{"id":7}}')).toEqual({ order: { id: 7 } });
    expect(socketIoData('[1,2]')).toEqual([1, 2]);
    for (const kept of ['hello', '42', '"quoted"', 'true', 'null', '{"broken"', '']) {
      expect(socketIoData(kept)).toBe(kept);
    }
  });
});

describe('parsePusherEvent', () => {
  it('makes one broadcast per channel, with socket_id and the info asked for', () => {
    const event = parsePusherEvent(
      { name: 'order.shipped', data: '{"id":7}', channels: ['a', 'b', 'a'], socket_id: '123.456', info: 'user_count' },
      LIMIT,
    );
    expect(event.info).toEqual(['user_count']);
    expect(event.broadcasts.map((b) => ({ ...b }))).toEqual([
      { channel: 'a', event: 'order.shipped', data: { id: 7 }, socket: '123.456' },
      { channel: 'b', event: 'order.shipped', data: { id: 7 }, socket: '123.456' },
    ]);
  });

  it('takes `channel` for one channel, and keeps data that is not JSON of an object as a string', () => {
    const event = parsePusherEvent({ name: 'note', data: 'plain text', channel: 'news' }, LIMIT);
    expect(event.broadcasts.map((b) => [b.channel, b.data])).toEqual([['news', 'plain text']]);
    expect(event.info).toEqual([]);
  });

  it('refuses what Pusher refuses, naming the problem', () => {
    const base = { name: 'e', data: '{}', channel: 'c' };
    expect(refusal(() => parsePusherEvent('nope', LIMIT))).toMatch(/^not_an_object/);
    expect(refusal(() => parsePusherEvent({ ...base, name: '' }, LIMIT))).toMatch(/^invalid_event/);
    expect(refusal(() => parsePusherEvent({ ...base, name: 'x'.repeat(201) }, LIMIT))).toMatch(
      /^invalid_event: "name" must be at most 200/,
    );
    expect(parsePusherEvent({ ...base, name: 'x'.repeat(200) }, LIMIT).broadcasts).toHaveLength(1);
    expect(refusal(() => parsePusherEvent({ ...base, data: { a: 1 } }, LIMIT))).toMatch(
      /^invalid_data: "data" must be a string/,
    );
    expect(refusal(() => parsePusherEvent({ ...base, data: 'é'.repeat(501) }, LIMIT))).toMatch(
      /^too_large: "data" is 1002 bytes/,
    );
    const channels = Array.from({ length: 101 }, (_, i) => `c${i}`);
    expect(refusal(() => parsePusherEvent({ ...base, channel: undefined, channels }, LIMIT))).toMatch(
      /^invalid_channel: "channels" may name at most 100/,
    );
    expect(refusal(() => parsePusherEvent({ ...base, channel: 'bad name' }, LIMIT))).toMatch(/^invalid_channel/);
    expect(refusal(() => parsePusherEvent({ ...base, socket_id: 5 }, LIMIT))).toMatch(/^invalid_socket/);
    expect(refusal(() => parsePusherEvent({ ...base, info: 'cache' }, LIMIT))).toMatch(/^invalid_event: "info"/);
    expect(refusal(() => parsePusherEvent({ ...base, name: 'disconnect' }, LIMIT))).toMatch(/^invalid_event/);
  });
});

describe('parsePusherBatch', () => {
  const event = (i: number): Record<string, unknown> => ({ name: `e${i}`, data: `{"i":${i}}`, channel: `c${i}` });

  it('takes 1 to 10 events of one channel each', () => {
    const batch = parsePusherBatch({ batch: Array.from({ length: 10 }, (_, i) => event(i)) }, LIMIT);
    expect(batch.map((e) => e.broadcasts.map((b) => [b.channel, b.event, b.data]))).toEqual(
      Array.from({ length: 10 }, (_, i) => [[`c${i}`, `e${i}`, { i }]]),
    );
  });

  it('refuses more than 10 events, an empty batch, and a batch with one bad event', () => {
    expect(refusal(() => parsePusherBatch({ batch: Array.from({ length: 11 }, (_, i) => event(i)) }, LIMIT))).toMatch(
      /^invalid_event: "batch" must hold 1 to 10 events, not 11/,
    );
    expect(refusal(() => parsePusherBatch({ batch: [] }, LIMIT))).toMatch(/^invalid_event/);
    expect(refusal(() => parsePusherBatch({}, LIMIT))).toMatch(/^not_an_object/);
    expect(refusal(() => parsePusherBatch({ batch: [event(1), { ...event(2), channel: undefined }] }, LIMIT))).toMatch(
      /^invalid_channel: batch\[1\]/,
    );
  });
});
