import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { useFixture } from '../support/fixture.js';
import { joinPresence } from '../support/presence-view.js';
import { cannotStart, type RedisKind } from '../support/redis-topologies.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'topology-secret';
const KINDS: RedisKind[] = ['cluster', 'sentinel'];

/**
 * Webhooks on Redis Cluster and Sentinel, two nodes: the queue, the lock and the presence keys
 * share one hash tag, so the scripts and the transaction that moves events run on one slot.
 */
for (const kind of KINDS) {
  const skip = cannotStart(kind);
  (skip ? describe.skip : describe)(`webhooks on ${kind} Redis, two nodes`, () => {
    const env: Record<string, string> = {
      ECHO_RELAY_CLIENTS: JSON.stringify([{ appId: 'app-1', key: 'key-1', secret: SECRET }]),
      ECHO_RELAY_WEBHOOK_LEAVE_DELAY_MS: '100',
    };
    let receiver: WebhookReceiver;
    beforeAll(async () => {
      receiver = await WebhookReceiver.start(SECRET);
      env.ECHO_RELAY_WEBHOOK_URL = receiver.url;
    });
    afterAll(() => receiver.down());
    const fx = useFixture({ redis: kind, nodes: 2, auth: { ann: { id: 1, info: { name: 'Ann' } } }, env });

    it('reports a member joining on one node and leaving on the other once', async () => {
      const first = await fx.echoAs('ann', { on: fx.nodes[0] });
      await joinPresence(first, 'topology');
      const second = await fx.echoAs('ann', { on: fx.nodes[1] });
      await joinPresence(second, 'topology');
      first.disconnect();
      second.disconnect();
      await receiver.waitFor(() => receiver.on('presence-topology').length === 4, 'four events');
      expect(receiver.on('presence-topology')).toEqual([
        'channel_occupied',
        'member_added 1',
        'member_removed 1',
        'channel_vacated',
      ]);
    });
  });
}
