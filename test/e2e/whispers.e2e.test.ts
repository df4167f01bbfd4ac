import { beforeAll, describe, expect, it } from '@jest/globals';
import { CLIENT_VERSIONS, rawSocket, type ClientVersion, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import type { LaravelPublisher } from '../support/laravel-publisher.js';
import { waitUntil } from '../support/ports.js';
import type { TestRelay } from '../support/relay.js';

/** limits.maxWhisperBytes of the `small` node. */
const SMALL_LIMIT = 2048;

describe('whispers (client events)', () => {
  const fx = useFixture({
    nodes: 2,
    auth: { ann: { id: 1, info: { name: 'Ann' } }, bob: { id: 2, info: { name: 'Bob' } } },
  });
  let nodeA: TestRelay;
  let nodeB: TestRelay;
  let quiet: TestRelay;
  let small: TestRelay;
  let laravel: LaravelPublisher;

  beforeAll(async () => {
    [nodeA, nodeB] = fx.nodes;
    laravel = fx.laravel;
    quiet = await fx.startNode({ env: { ECHO_RELAY_WHISPERS: 'false' } });
    small = await fx.startNode({ env: { ECHO_RELAY_MAX_WHISPER_BYTES: String(SMALL_LIMIT) } });
  });

  const echoAs = (token: string, relay: TestRelay, version: ClientVersion = 4): Promise<TestEcho> =>
    fx.echoAs(token, { on: relay, version });

  /** Subscribes to a private channel, listening for `client-typing`. */
  async function member(echo: TestEcho, relay: TestRelay, name: string, count: number): Promise<unknown[]> {
    const got: unknown[] = [];
    echo.private(name).listenForWhisper('typing', (data: unknown) => got.push(data));
    await relay.waitForSubscribers(`private-${name}`, count);
    return got;
  }

  async function whisperCount(relay: TestRelay, result: string): Promise<number> {
    const { values } = await relay.metrics.whispers.get();
    return values.find((v) => v.labels.result === result)?.value ?? 0;
  }

  /** Sends a raw client event and waits until the relay has counted it as `result`. */
  async function sendAndCount(relay: TestRelay, from: TestEcho, body: unknown, result: string): Promise<void> {
    const before = await whisperCount(relay, result);
    rawSocket(from).emit('client event', body);
    await waitUntil(async () => (await whisperCount(relay, result)) === before + 1, 5000, `a ${result} whisper`);
  }

  for (const version of CLIENT_VERSIONS) {
    it(`reaches the other members, not the sender (socket.io-client ${version})`, async () => {
      const ann = await echoAs('ann', nodeA, version);
      const bob = await echoAs('bob', nodeA, version);
      const annGot = await member(ann, nodeA, `chat.v${version}`, 1);
      const bobGot = await member(bob, nodeA, `chat.v${version}`, 2);
      ann.private(`chat.v${version}`).whisper('typing', { who: 'ann', n: 1 });
      bob.private(`chat.v${version}`).whisper('typing', { who: 'bob', n: 1 });
      await waitUntil(() => annGot.length === 1 && bobGot.length === 1);
      expect(annGot).toEqual([{ who: 'bob', n: 1 }]);
      expect(bobGot).toEqual([{ who: 'ann', n: 1 }]);
    });
  }

  it('crosses nodes through the Redis adapter, and works on presence channels', async () => {
    const ann = await echoAs('ann', nodeA);
    const bob = await echoAs('bob', nodeB);
    const got: unknown[] = [];
    ann.join('room.w');
    bob.join('room.w').listenForWhisper('typing', (d: unknown) => got.push(d));
    await nodeA.waitForSubscribers('presence-room.w', 1);
    await nodeB.waitForSubscribers('presence-room.w', 1);
    ann.join('room.w').whisper('typing', { across: true });
    await waitUntil(() => got.length === 1);
    expect(got).toEqual([{ across: true }]);
  });

  it('is refused from a socket that is not a member of the channel', async () => {
    const ann = await echoAs('ann', nodeA);
    const bob = await echoAs('bob', nodeA);
    const outsider = await echoAs('bob', nodeA);
    await member(ann, nodeA, 'members.only', 1);
    const bobGot = await member(bob, nodeA, 'members.only', 2);
    const body = { channel: 'private-members.only', event: 'client-typing', data: { from: 'outsider' } };
    await sendAndCount(nodeA, outsider, body, 'refused');
    ann.private('members.only').whisper('typing', { from: 'ann' });
    await waitUntil(() => bobGot.length === 1);
    expect(bobGot).toEqual([{ from: 'ann' }]);
  });

  it('is refused on public channels', async () => {
    const ann = await echoAs('ann', nodeA);
    const bob = await echoAs('bob', nodeA);
    const got: unknown[] = [];
    ann.channel('lobby');
    bob.channel('lobby').listen('.client-typing', (d: unknown) => got.push(d));
    const control = await member(bob, nodeA, 'lobby.control', 1);
    await member(ann, nodeA, 'lobby.control', 2);
    await nodeA.waitForSubscribers('lobby', 2);
    await sendAndCount(nodeA, ann, { channel: 'lobby', event: 'client-typing', data: { n: 1 } }, 'refused');
    ann.private('lobby.control').whisper('typing', { n: 2 });
    await waitUntil(() => control.length === 1);
    expect(got).toEqual([]);
  });

  it('is refused for event names that do not start with client-', async () => {
    const ann = await echoAs('ann', nodeA);
    const bob = await echoAs('bob', nodeA);
    await member(ann, nodeA, 'names', 1);
    const bobGot = await member(bob, nodeA, 'names', 2);
    const spoofed: unknown[] = [];
    bob.private('names').listen('.order.shipped', (d: unknown) => spoofed.push(d));
    const body = { channel: 'private-names', event: 'order.shipped', data: { fake: true } };
    await sendAndCount(nodeA, ann, body, 'refused');
    ann.private('names').whisper('typing', { real: true });
    await waitUntil(() => bobGot.length === 1);
    expect(spoofed).toEqual([]);
  });

  it('is refused for a client-* event name that is not well-formed Unicode', async () => {
    const ann = await echoAs('ann', nodeA);
    const bob = await echoAs('bob', nodeB);
    await member(ann, nodeA, 'lone', 1);
    const bobGot = await member(bob, nodeB, 'lone', 1);
    await nodeA.waitForSubscribers('private-lone', 1);
    const mangled: unknown[] = [];
    // What the other node made of the name: the adapter carries it as UTF-8.
    rawSocket(bob).on('client-typing\ufffd', (...args: unknown[]) => mangled.push(args));
    const body = { channel: 'private-lone', event: 'client-typing\ud800', data: { n: 0 } };
    await sendAndCount(nodeA, ann, body, 'refused');
    ann.private('lone').whisper('typing', { n: 1 });
    await waitUntil(() => bobGot.length === 1);
    expect([bobGot, mangled]).toEqual([[{ n: 1 }], []]);
  });

  it('is rate-limited per socket (10 a second by default) and the drops are counted', async () => {
    const ann = await echoAs('ann', nodeA);
    const bob = await echoAs('bob', nodeA);
    await member(ann, nodeA, 'flood', 1);
    const bobGot = await member(bob, nodeA, 'flood', 2);
    const [relayedBefore, limitedBefore] = [
      await whisperCount(nodeA, 'relayed'),
      await whisperCount(nodeA, 'rate_limited'),
    ];
    for (let n = 0; n < 15; n++) ann.private('flood').whisper('typing', { n });
    const counted = async (): Promise<number> =>
      (await whisperCount(nodeA, 'relayed')) -
      relayedBefore +
      (await whisperCount(nodeA, 'rate_limited')) -
      limitedBefore;
    await waitUntil(async () => (await counted()) === 15, 5000, 'all 15 whispers handled');
    const relayed = (await whisperCount(nodeA, 'relayed')) - relayedBefore;
    await waitUntil(() => bobGot.length === relayed);
    // relayed out of a burst of 15
    expect(relayed).toBeGreaterThanOrEqual(10);
    expect(relayed).toBeLessThanOrEqual(11);
    expect(bobGot.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, n) => ({ n })));
  });

  it('gives every socket its own allowance', async () => {
    const ann = await echoAs('ann', nodeA);
    const bob = await echoAs('bob', nodeA);
    const annGot = await member(ann, nodeA, 'allowance', 1);
    const bobGot = await member(bob, nodeA, 'allowance', 2);
    for (let n = 0; n < 10; n++) ann.private('allowance').whisper('typing', { n });
    for (let n = 0; n < 10; n++) bob.private('allowance').whisper('typing', { n });
    await waitUntil(() => annGot.length === 10 && bobGot.length === 10);
  });

  it('can be turned off', async () => {
    const ann = await echoAs('ann', quiet);
    const bob = await echoAs('bob', quiet);
    await member(ann, quiet, 'off', 1);
    const bobGot = await member(bob, quiet, 'off', 2);
    const control: unknown[] = [];
    bob.channel('off.control').listen('.tick', (d: unknown) => control.push(d));
    await quiet.waitForSubscribers('off.control', 1);
    await sendAndCount(quiet, ann, { channel: 'private-off', event: 'client-typing', data: {} }, 'refused');
    // Anything the relay had sent Bob before this broadcast arrives first.
    await laravel.broadcast(['off.control'], 'tick', {});
    await waitUntil(() => control.length === 1);
    expect(bobGot).toEqual([]);
  });

  describe('limits.maxWhisperBytes counts text and binary alike', () => {
    for (const version of CLIENT_VERSIONS) {
      it(`drops a whisper over the limit, as text or as binary attachments (socket.io-client ${version})`, async () => {
        const ann = await echoAs('ann', small, version);
        const bob = await echoAs('bob', small, version);
        const channel = `sized.v${version}`;
        await member(ann, small, channel, 1);
        const bobGot = await member(bob, small, channel, 2);
        const body = (data: unknown): unknown => ({ channel: `private-${channel}`, event: 'client-typing', data });
        // Text alone over the limit.
        await sendAndCount(small, ann, body({ text: 'x'.repeat(SMALL_LIMIT) }), 'too_large');
        // Little text, but binary attachments past the limit (two Buffers of 1.5 KB).
        const binary = { parts: [Buffer.alloc(1536, 1), Buffer.alloc(1536, 2)] };
        await sendAndCount(small, ann, body(binary), 'too_large');
        // Under the limit, text and binary together: relayed, binary intact.
        await sendAndCount(small, ann, body({ text: 'ok', part: Buffer.from([1, 2, 3]) }), 'relayed');
        await waitUntil(() => bobGot.length === 1, 5000, 'the small whisper');
        const [got] = bobGot as { text: string; part: ArrayBuffer | Uint8Array }[];
        expect(got.text).toBe('ok');
        expect([...new Uint8Array(got.part as ArrayBuffer)]).toEqual([1, 2, 3]);
      });
    }

    it('under the default 64 KiB: relays 60 KiB of binary, drops 65 KiB', async () => {
      const ann = await echoAs('ann', nodeA);
      const bob = await echoAs('bob', nodeA);
      await member(ann, nodeA, 'sized.default', 1);
      const bobGot = await member(bob, nodeA, 'sized.default', 2);
      const body = (data: unknown): unknown => ({ channel: 'private-sized.default', event: 'client-typing', data });
      await sendAndCount(nodeA, ann, body({ part: Buffer.alloc(60 * 1024) }), 'relayed');
      await sendAndCount(nodeA, ann, body({ part: Buffer.alloc(65 * 1024) }), 'too_large');
      await waitUntil(() => bobGot.length === 1, 5000, 'the 60 KiB whisper');
    });
  });
});
