import { beforeAll, describe, expect, it } from '@jest/globals';
import { rawSocket, type TestEcho } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { OldEchoServer } from '../support/old-echo-server.js';
import { sleep, waitUntil } from '../support/ports.js';
import { joinPresence } from '../support/presence-view.js';
import { RedisTap } from '../support/redis-tap.js';

const PREFIX = 'laravel_database_';
const UPDATES = 'PresenceChannelUpdated';

/**
 * `databaseConfig.publishPresence` against laravel-echo-server 1.6.3 itself: the same joins and
 * leaves on each server, and what each PUBLISHed on Redis compared byte for byte (socket ids,
 * which differ by nature, replaced by the name of the tab they belong to).
 */
describe('publishPresence, as laravel-echo-server 1.6.3 publishes it', () => {
  const fx = useFixture({
    nodes: 2,
    prefix: PREFIX,
    auth: { ann: { id: 1, info: { name: 'Ann' } }, bob: { id: 'b-2', info: { name: 'Bob', tags: ['x/y'] } } },
    env: { ECHO_RELAY_PUBLISH_PRESENCE: 'true' },
  });
  let tap: RedisTap;
  let old: OldEchoServer;

  beforeAll(async () => {
    tap = await RedisTap.open(fx.redis.url);
    fx.defer(() => tap.close());
    old = await OldEchoServer.start({
      redis: { host: fx.server.host, port: fx.server.port, keyPrefix: PREFIX },
      authHost: fx.app.url,
      databaseConfig: { publishPresence: true },
    });
    fx.defer(() => old.stop());
  });

  const updates = (): string[] => tap.messages.filter((m) => m.channel === UPDATES).map((m) => m.payload);

  /** Runs `step`, then waits until the server has published and gone quiet; returns what it published. */
  async function published(step: () => Promise<unknown> | void): Promise<string[]> {
    const before = updates().length;
    await step();
    await waitUntil(() => updates().length > before, 5000, 'a presence update');
    for (let seen = -1; seen !== updates().length;) {
      seen = updates().length;
      await sleep(300);
    }
    return updates().slice(before);
  }

  /** The same joins and leaves on one server: the messages of each step, socket ids named by tab. */
  async function scenario(url: string): Promise<string[][]> {
    const tabs = new Map<string, string>();
    const open = async (token: string, name: string): Promise<TestEcho> => {
      const echo = await fx.echoAs(token, { on: url, version: 2 });
      tabs.set(rawSocket(echo).id ?? '', name);
      return echo;
    };
    const [ann1, bob, ann2] = [await open('ann', 'ann-1'), await open('bob', 'bob'), await open('ann', 'ann-2')];
    const steps = [
      await published(() => joinPresence(ann1, 'lobby')),
      await published(() => joinPresence(bob, 'lobby')),
      await published(() => joinPresence(ann2, 'lobby')),
      await published(() => ann1.leave('lobby')),
      await published(() => bob.disconnect()),
      await published(() => ann2.disconnect()),
    ];
    const named = (payload: string): string =>
      payload.replace(/"socketId":"([^"]*)"/g, (_, id: string) => `"socketId":"${tabs.get(id) ?? `unknown ${id}`}"`);
    return steps.map((messages) => messages.map(named));
  }

  it('publishes, once per change, the last message the old server published for it', async () => {
    const theirs = await scenario(old.url);
    const ours = await scenario(fx.relay.url);
    // The old server publishes two lists per change (every read re-saves it); the last one
    // is the state after the change.
    expect(ours).toEqual(theirs.map((messages) => [messages[messages.length - 1]]));
    expect(ours[2]).toEqual([
      '{"event":{"channel":"presence-lobby:members","members":[' +
        '{"user_id":1,"user_info":{"name":"Ann"},"socketId":"ann-1"},' +
        '{"user_id":"b-2","user_info":{"name":"Bob","tags":["x/y"]},"socketId":"bob"},' +
        '{"user_id":1,"user_info":{"name":"Ann"},"socketId":"ann-2"}]}}',
    ]);
    expect(ours[5]).toEqual(['{"event":{"channel":"presence-lobby:members","members":[]}}']);
  });

  it('publishes each change once for the cluster, whichever node saw it', async () => {
    const onDuo = (): string[] => updates().filter((u) => u.includes('"presence-duo:members"'));
    const ann = await fx.echoAs('ann', { on: fx.nodes[0] });
    await published(() => joinPresence(ann, 'duo'));
    const bob = await fx.echoAs('bob', { on: fx.nodes[1] });
    await published(() => joinPresence(bob, 'duo'));
    await published(() => ann.disconnect());
    expect(onDuo().map((u) => (JSON.parse(u) as { event: { members: { user_id: unknown }[] } }).event.members)).toEqual(
      [
        [expect.objectContaining({ user_id: 1 })],
        [expect.objectContaining({ user_id: 1 }), expect.objectContaining({ user_id: 'b-2' })],
        [expect.objectContaining({ user_id: 'b-2' })],
      ],
    );
  });
});
