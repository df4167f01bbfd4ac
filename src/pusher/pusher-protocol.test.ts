import { describe, expect, it } from '@jest/globals';
import { frameOfEmit, newSocketId, presenceData, pusherFrame } from './pusher-protocol.js';

describe('Pusher frames', () => {
  it('socket ids have Pusher’s digits.digits form, which no socket.io id has', () => {
    const ids = new Set(Array.from({ length: 100 }, newSocketId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^\d+\.\d+$/);
  });

  it('sends data as a JSON string, as Pusher servers do', () => {
    expect(JSON.parse(pusherFrame('pusher:pong', {}))).toEqual({ event: 'pusher:pong', data: '{}' });
    expect(JSON.parse(pusherFrame('e', { a: 1 }, 'c'))).toEqual({ event: 'e', channel: 'c', data: '{"a":1}' });
  });

  it('lists presence members by id, with their info, each once', () => {
    const members = [
      { user_id: 1, user_info: { name: 'Ann' } },
      { user_id: 'b', user_info: undefined },
    ];
    expect(presenceData(members)).toEqual({
      presence: { ids: ['1', 'b'], hash: { '1': { name: 'Ann' }, b: null }, count: 2 },
    });
  });

  it('turns socket.io emits of the shared rooms into the same Pusher events', () => {
    expect(JSON.parse(frameOfEmit(['App\\Events\\Paid', 'orders', { n: 1 }])!)).toEqual({
      event: 'App\\Events\\Paid',
      channel: 'orders',
      data: '{"n":1}',
    });
    // A text whisper (with the trailing null of recovery) keeps its text, JSON-encoded.
    expect(JSON.parse(frameOfEmit(['client-typing', 'private-a', 'hi', null])!)).toMatchObject({ data: '"hi"' });
    expect(JSON.parse(frameOfEmit(['presence:joining', 'presence-a', { user_id: 1, user_info: { n: 'A' } }])!)).toEqual(
      {
        event: 'pusher_internal:member_added',
        channel: 'presence-a',
        data: '{"user_id":"1","user_info":{"n":"A"}}',
      },
    );
    expect(JSON.parse(frameOfEmit(['presence:leaving', 'presence-a', { user_id: 1 }])!)).toEqual({
      event: 'pusher_internal:member_removed',
      channel: 'presence-a',
      data: '{"user_id":"1"}',
    });
    expect(frameOfEmit(['presence:subscribed', 'presence-a', []])).toBeUndefined();
    expect(frameOfEmit([5, 'a'])).toBeUndefined();
    expect(frameOfEmit(['e'])).toBeUndefined();
  });
});
