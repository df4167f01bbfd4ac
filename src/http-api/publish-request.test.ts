import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { DroppedMessage } from './dropped-message.js';
import {
  MAX_CHANNELS_PER_EVENT,
  describeRefusal,
  parsePublishRequest,
  toBroadcasts,
  type PublishRequest,
} from './publish-request.js';

function refusal(fn: () => unknown): DroppedMessage {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DroppedMessage, `expected DroppedMessage, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the request to be refused');
}

describe('parsePublishRequest', () => {
  it('reads the old server body with one channel', () => {
    assert.deepEqual(parsePublishRequest({ channel: 'orders', name: 'OrderShipped', data: { id: 1 } }), {
      channels: ['orders'],
      name: 'OrderShipped',
      data: { id: 1 },
      socketId: undefined,
    });
  });

  it('prefers "channels" over "channel", dropping duplicates, like the old server', () => {
    const request = parsePublishRequest({ channel: 'x', channels: ['a', 'b', 'a'], name: 'e', data: {} });
    assert.deepEqual(request.channels, ['a', 'b']);
  });

  it('parses data sent as a JSON string (Pusher SDK style)', () => {
    assert.deepEqual(parsePublishRequest({ channel: 'a', name: 'e', data: '{"id":7,"tags":["x"]}' }).data, {
      id: 7,
      tags: ['x'],
    });
    assert.deepEqual(parsePublishRequest({ channel: 'a', name: 'e', data: '[]' }).data, []);
  });

  it('keeps socket_id for toOthers()', () => {
    assert.equal(parsePublishRequest({ channel: 'a', name: 'e', data: {}, socket_id: '123.456' }).socketId, '123.456');
  });

  it('refuses bodies that are not objects', () => {
    for (const body of [undefined, null, 'x', 42, [], [{ channel: 'a' }]]) {
      assert.equal(refusal(() => parsePublishRequest(body)).reason, 'not_an_object', JSON.stringify(body));
    }
  });

  it('refuses a missing or malformed channel', () => {
    for (const body of [
      { name: 'e', data: {} },
      { channel: '', name: 'e', data: {} },
      { channel: 7, name: 'e', data: {} },
      { channels: [], name: 'e', data: {} },
      { channels: 'a', name: 'e', data: {} },
      { channels: ['a', 3], name: 'e', data: {} },
    ]) {
      const drop = refusal(() => parsePublishRequest(body));
      assert.equal(drop.reason, 'invalid_channel', JSON.stringify(body));
      assert.match(drop.message, /channel/);
    }
  });

  it(`refuses more than ${MAX_CHANNELS_PER_EVENT} channels`, () => {
    const channels = Array.from({ length: MAX_CHANNELS_PER_EVENT + 1 }, (_, i) => `c${i}`);
    assert.equal(refusal(() => parsePublishRequest({ channels, name: 'e', data: {} })).reason, 'invalid_channel');
  });

  it('refuses a missing name', () => {
    for (const name of [undefined, '', 5]) {
      const drop = refusal(() => parsePublishRequest({ channel: 'a', name, data: {} }));
      assert.equal(drop.reason, 'invalid_event');
      assert.match(drop.message, /"name"/);
    }
  });

  it('refuses missing data, and passes a string that is not JSON of an object on as it is', () => {
    assert.equal(refusal(() => parsePublishRequest({ channel: 'a', name: 'e' })).reason, 'invalid_data');
    assert.equal(refusal(() => parsePublishRequest({ channel: 'a', name: 'e', data: null })).reason, 'invalid_data');
    // laravel-echo-server delivered such a string to Echo as it was.
    for (const data of ['hello', '5', '"quoted"']) {
      const request = parsePublishRequest({ channel: 'a', name: 'e', data });
      assert.equal(request.data, data);
      assert.equal(toBroadcasts(request)[0].data, data);
    }
  });
});

describe('toBroadcasts', () => {
  const request = (patch: Partial<PublishRequest>): PublishRequest => ({
    channels: ['a'],
    name: 'e',
    data: {},
    ...patch,
  });

  it('builds one broadcast per channel, with the event name and the socket to leave out', () => {
    const broadcasts = toBroadcasts(request({ channels: ['a', 'b'], data: { n: 1 }, socketId: 's.1' }));
    assert.deepEqual(
      broadcasts.map((b) => ({ ...b })),
      [
        { channel: 'a', event: 'e', data: { n: 1 }, socket: 's.1' },
        { channel: 'b', event: 'e', data: { n: 1 }, socket: 's.1' },
      ],
    );
  });

  it('applies the validation of Redis messages', () => {
    const cases: [Partial<PublishRequest>, string][] = [
      [{ channels: ['ok', 'bad channel'] }, 'invalid_channel'],
      [{ name: 'disconnect' }, 'invalid_event'],
      [{ name: 'x'.repeat(201) }, 'invalid_event'],
      // A string is passed on (see parsePublishRequest); other scalars are not data.
      [{ data: 42 }, 'invalid_data'],
      [{ data: true }, 'invalid_data'],
      [{ socketId: 42 }, 'invalid_socket'],
      [{ data: JSON.parse('['.repeat(70) + ']'.repeat(70)) as unknown }, 'too_deep'],
    ];
    for (const [patch, reason] of cases) {
      assert.equal(refusal(() => toBroadcasts(request(patch))).reason, reason, JSON.stringify(patch).slice(0, 60));
    }
  });

  it('names the request field in refusals', () => {
    const drop = refusal(() => toBroadcasts(request({ name: 'connect' })));
    assert.match(describeRefusal(drop), /^invalid "name" \(channel "a"\): /);
    const parse = refusal(() => parsePublishRequest({ channel: 'a', data: {} }));
    assert.equal(describeRefusal(parse), 'the event must have a "name"');
  });
});
