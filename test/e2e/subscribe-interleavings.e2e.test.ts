import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Socket } from 'socket.io';
import { ChannelSubscriptions } from '../../src/channels/channel-subscriptions.js';
import { PresenceDirectory } from '../../src/channels/presence-directory.js';
import { SocketServer } from '../../src/gateway/socket-server.js';
import { rawSocket, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import type { ApiClient } from '../support/http-api.js';
import type { LaravelAuthStub } from '../support/laravel-auth-stub.js';
import { waitUntil } from '../support/ports.js';
import type { TestRelay } from '../support/relay.js';

type Step = 'subscribe' | 'unsubscribe';

/** Every sequence of subscribe/unsubscribe of length 1 to `max`. */
function sequences(max: number): Step[][] {
  const all: Step[][] = [];
  let current: Step[][] = [[]];
  for (let length = 1; length <= max; length++) {
    current = current.flatMap((seq) => [
      [...seq, 'subscribe'],
      [...seq, 'unsubscribe'],
    ]);
    all.push(...current);
  }
  return all;
}

const name = (seq: Step[]): string => seq.map((step) => (step === 'subscribe' ? 's' : 'u')).join('');

/**
 * Subscribes and unsubscribes sent back to back on one socket, as an SPA mounting and unmounting
 * components does, with an auth host that answers late: whatever the order, the socket ends in
 * the state of the last one it sent. Each check waits until the relay has finished with the
 * socket (`ChannelSubscriptions.busy`) after a barrier subscribe proved every message arrived.
 */
describe('subscribe and unsubscribe interleaved on one socket', () => {
  const fx = useFixture({
    auth: { ann: { id: 1, info: { name: 'Ann' } } },
    overrides: { api: { clients: [{ appId: 'shop', key: 'shop-secret' }] } },
  });
  let relay: TestRelay;
  let app: LaravelAuthStub;
  let api: ApiClient;
  let directory: PresenceDirectory;
  let subscriptions: ChannelSubscriptions;

  beforeAll(() => {
    ({ relay, app } = fx);
    app.delayMs = 30;
    api = fx.api('shop', 'shop-secret');
    directory = relay.app.get(PresenceDirectory);
    subscriptions = relay.app.get(ChannelSubscriptions);
  });

  function send(echo: TestEcho, step: Step, channel: string): void {
    rawSocket(echo).emit(step, { channel, auth: { headers: { Authorization: 'Bearer ann' } } });
  }

  function serverSocket(echo: TestEcho): Socket {
    const id = rawSocket(echo).id;
    const socket = [...relay.app.get(SocketServer).localSockets()].find((s) => s.id === id);
    if (!socket) throw new Error(`socket ${id} not on the relay`);
    return socket;
  }

  /** Every message sent so far has reached the relay, and the relay is done with all of them. */
  async function settled(echo: TestEcho, barrier: string): Promise<void> {
    send(echo, 'subscribe', barrier);
    await relay.waitForSubscribers(barrier, 1);
    const socket = serverSocket(echo);
    await waitUntil(() => !subscriptions.busy(socket), 30_000, 'the relay to finish with the socket');
  }

  it('a public subscribe followed at once by an unsubscribe ends unsubscribed: no events, channel unoccupied', async () => {
    const echo = await fx.echoAs('ann');
    const got: unknown[] = [];
    rawSocket(echo).on('story', (channel) => got.push(channel));
    send(echo, 'subscribe', 'spa.widget');
    send(echo, 'unsubscribe', 'spa.widget');
    await settled(echo, 'spa.barrier');
    await fx.laravel.broadcast(['spa.widget'], 'story', { n: 1 });
    await fx.laravel.broadcast(['spa.barrier'], 'story', { n: 2 });
    await waitUntil(() => got.length >= 1, 10_000, 'the barrier broadcast');
    expect(got).toEqual(['spa.barrier']);
    expect(relay.gateway.localSubscriberCount('spa.widget')).toBe(0);
    expect((await api.get('/channels/spa.widget')).body).toEqual({ subscription_count: 0, occupied: false });
  });

  for (const type of ['public', 'private', 'presence'] as const) {
    it(`ends every sequence of up to 4 on a ${type} channel in the state of the last step`, async () => {
      const echo = await fx.echoAs('ann');
      const prefix = type === 'public' ? '' : `${type}-`;
      const cases = sequences(4).map((seq) => ({ seq, channel: `${prefix}mix.${type}.${name(seq)}` }));
      expect(cases).toHaveLength(30);
      for (const { seq, channel } of cases) for (const step of seq) send(echo, step, channel);
      await settled(echo, `mix.barrier.${type}`);

      const wrong: string[] = [];
      for (const { seq, channel } of cases) {
        const expected = seq[seq.length - 1] === 'subscribe';
        const joined = relay.gateway.localSubscriberCount(channel) === 1;
        const occupied = ((await api.get(`/channels/${channel}`)).body as { occupied: boolean }).occupied;
        const member = type === 'presence' ? (await directory.members(channel)).length === 1 : expected;
        if (joined !== expected || occupied !== expected || member !== expected) {
          wrong.push(`${name(seq)}: joined ${joined}, occupied ${occupied}, member ${member}`);
        }
      }
      expect(wrong).toEqual([]);
    });
  }
});
