import { describe, expect, it } from '@jest/globals';
import { connected } from '../support/echo-client.js';
import { waitUntil } from '../support/ports.js';
import { byJson } from '../support/presence-view.js';
import {
  broadcasts,
  clientSocket,
  dataOf,
  HISTORY_KEY,
  keys,
  metric,
  offline,
  recordAll,
  RECOVERIES,
  sequenced,
  sessionKey,
  waitForBroadcasts,
  presenceChanges,
  presenceSnapshots,
  recoverySuite,
  ANN,
  APP,
  BOB,
  CAROL,
  PREFIX,
} from '../support/recovery.js';

describe('recovery window', () => {
  const suite = recoverySuite({ ECHO_RELAY_RECOVERY_WINDOW_MS: '1000' });
  const { fx } = suite;

  it('after the window a client connects fresh, is re-subscribed by Echo and gets only new events', async () => {
    const { echo, got } = suite.roaming();
    echo.channel('orders');
    await connected(echo);
    const seen = await suite.observer('orders');
    await fx.relay.waitForSubscribers('orders', 2);
    await suite.tick('orders', 1);
    await waitForBroadcasts(got, 'orders', 'tick', 1);
    const id = echo.socketId();
    const pid = clientSocket(echo)._pid!;
    const failed = await metric(fx.relay.apiUrl, RECOVERIES, { result: 'failed', reason: 'unknown_session' });

    const back = await offline(echo, suite.proxy(), async () => {
      await fx.relay.waitForSubscribers('orders', 1);
      await suite.tick('orders', 'missed');
      await waitForBroadcasts(seen, 'orders', 'tick', 2);
      // The session outlives the drop by the window, no longer.
      await waitUntil(
        async () => (await fx.laravel.redis.exists(sessionKey(pid))) === 0,
        5000,
        'the session to expire',
      );
    });

    expect(back.recovered).toBe(false);
    expect(back.id).not.toBe(id);
    expect(clientSocket(echo)._pid).not.toBe(pid);
    await fx.relay.waitForSubscribers('orders', 2);
    await suite.tick('orders', 2);
    await waitForBroadcasts(got, 'orders', 'tick', 2);
    expect(dataOf(got, 'orders', 'tick')).toEqual([{ n: 1 }, { n: 2 }]);
    expect((await metric(fx.relay.apiUrl, RECOVERIES, { result: 'failed', reason: 'unknown_session' })) - failed).toBe(
      1,
    );
  });
});

describe('recovery history', () => {
  const suite = recoverySuite({ ECHO_RELAY_RECOVERY_MAX_HISTORY: '100' });
  const { fx } = suite;

  it('when the missed events were trimmed from the history the client connects fresh', async () => {
    const { echo, got } = suite.roaming();
    echo.channel('firehose');
    await connected(echo);
    const seen = await suite.observer('firehose');
    await fx.relay.waitForSubscribers('firehose', 2);
    await suite.tick('firehose', 'first');
    await waitForBroadcasts(got, 'firehose', 'tick', 1);
    const id = echo.socketId();
    const failed = await metric(fx.relay.apiUrl, RECOVERIES, { result: 'failed', reason: 'trimmed' });

    const back = await offline(echo, suite.proxy(), async () => {
      await fx.relay.waitForSubscribers('firehose', 1);
      // MAXLEN ~ trims whole stream nodes of 100 entries: 400 entries leave none of the old ones.
      const pipeline = fx.laravel.redis.pipeline();
      for (let n = 0; n < 400; n++) {
        const payload = JSON.stringify({ event: 'tick', data: { n }, socket: null });
        pipeline.publish(`${PREFIX}firehose`, payload);
      }
      await pipeline.exec();
      await waitForBroadcasts(seen, 'firehose', 'tick', 401);
      // The first broadcasts the client missed are gone from the history. (Redis 7 leaves
      // max-deleted-entry-id at 0-0 when MAXLEN trims: only the first entry tells.)
      const [[, fields]] = (await fx.laravel.redis.xrange(HISTORY_KEY, '-', '+', 'COUNT', 1)) as [string, string[]][];
      const oldest = JSON.parse(fields[fields.indexOf('b') + 1]) as { d: { n: unknown } };
      expect(oldest.d.n).toBeGreaterThan(0);
    });

    expect(back.recovered).toBe(false);
    expect(back.id).not.toBe(id);
    await fx.relay.waitForSubscribers('firehose', 2);
    await suite.tick('firehose', 'after');
    await waitForBroadcasts(got, 'firehose', 'tick', 2);
    expect(dataOf(got, 'firehose', 'tick')).toEqual([{ n: 'first' }, { n: 'after' }]);
    expect((await metric(fx.relay.apiUrl, RECOVERIES, { result: 'failed', reason: 'trimmed' })) - failed).toBe(1);
  });
});

describe('presence leave grace', () => {
  const suite = recoverySuite({ ECHO_RELAY_PRESENCE_LEAVE_GRACE_MS: '60000' });
  const { fx } = suite;

  it('a member recovered within the grace neither leaves nor joins, and is told who is there now', async () => {
    const ann = fx.client({ token: 'ann' });
    const annGot = recordAll(ann);
    await connected(ann);
    ann.join('lobby');
    await fx.relay.waitForSubscribers('presence-lobby', 1);
    const { echo: bob, got: bobGot } = suite.roaming({ token: 'bob' });
    bob.join('lobby');
    await connected(bob);
    await waitUntil(() => presenceChanges(annGot).length === 1, 5000, "Bob's joining");
    // Bob's own member list too: one still in flight through the proxy would be lost with the drop.
    await waitUntil(() => presenceSnapshots(bobGot).length === 1, 5000, 'presence:subscribed for Bob');
    const id = bob.socketId();

    const back = await offline(bob, suite.proxy(), async () => {
      await fx.relay.waitForSubscribers('presence-lobby', 1);
    });

    expect(back).toMatchObject({ id, recovered: true });
    await waitUntil(() => presenceSnapshots(bobGot).length === 2, 5000, 'presence:subscribed after recovery');
    // Control: a third member's arrival is seen, so a leaving/joining for Bob would have been too.
    const carol = fx.client({ token: 'carol' });
    carol.join('lobby');
    await connected(carol);
    const isCarol = (member: unknown): boolean => (member as { user_id?: unknown }).user_id === CAROL.id;
    await waitUntil(() => presenceChanges(annGot).some(([, , member]) => isCarol(member)), 5000, "Carol's joining");
    const member = (user: typeof ANN): unknown => ({ user_id: user.id, user_info: user.info });
    expect(presenceChanges(annGot)).toEqual([
      ['presence:joining', 'presence-lobby', member(BOB)],
      ['presence:joining', 'presence-lobby', member(CAROL)],
    ]);
    expect(byJson(presenceSnapshots(bobGot)[1])).toEqual(byJson([member(ANN), member(BOB)]));
  });
});

describe('recovery disabled', () => {
  const suite = recoverySuite({ ECHO_RELAY_RECOVERY: 'false' });
  const { fx } = suite;

  it('sends no offsets, recovers nothing and writes nothing of its own to Redis', async () => {
    const { echo, got } = suite.roaming();
    echo.channel('plain');
    await connected(echo);
    const seen = await suite.observer('plain');
    await fx.relay.waitForSubscribers('plain', 2);
    await sequenced(seen, 'plain', 'tick', () => suite.tick('plain', 1));
    await sequenced(seen, 'plain', 'tick', async () => {
      const answer = await fx.api(APP.appId, APP.key).publish({ channel: 'plain', name: 'tick', data: { n: 2 } });
      expect(answer.status).toBe(200);
    });
    await waitForBroadcasts(got, 'plain', 'tick', 2);
    const id = echo.socketId();
    expect(clientSocket(echo)._pid).toBeUndefined();

    const back = await offline(echo, suite.proxy(), async () => {
      await fx.relay.waitForSubscribers('plain', 1);
      await suite.tick('plain', 'missed');
      await waitForBroadcasts(seen, 'plain', 'tick', 3);
    });

    expect(back.recovered).toBe(false);
    expect(back.id).not.toBe(id);
    await fx.relay.waitForSubscribers('plain', 2);
    await suite.tick('plain', 3);
    await waitForBroadcasts(got, 'plain', 'tick', 3);
    expect(dataOf(got, 'plain', 'tick')).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(broadcasts(got, 'plain', 'tick').every((rest) => rest.length === 1)).toBe(true);
    expect(await keys(fx.laravel.redis)).toEqual([]);
    expect(await metric(fx.relay.apiUrl, RECOVERIES)).toBe(0);
  });
});
