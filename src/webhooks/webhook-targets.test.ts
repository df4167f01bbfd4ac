import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../config/load-config.js';
import { sign } from './webhook-sender.js';
import { anyTargetWants, resolveTargets, wants, type QueuedEvent } from './webhook-targets.js';

const cwd = '/nonexistent-dir-for-config-tests';

function configWith(targets: unknown[]): ReturnType<typeof loadConfig>['config'] {
  const clients = [
    { appId: 'a', key: 'ka', secret: 'sa' },
    { appId: 'b', key: 'kb', secret: 'sb' },
  ];
  return loadConfig({
    cwd,
    env: { ECHO_RELAY_CLIENTS: JSON.stringify(clients), ECHO_RELAY_WEBHOOKS: JSON.stringify(targets) },
  }).config;
}

const event = (name: QueuedEvent['name'], channel: string): QueuedEvent => ({ name, channel, at: 0 });

describe('webhook receivers', () => {
  it("sign with the named app's key and secret, else the first app with a secret", () => {
    const config = configWith([{ url: 'http://x.test/' }, { url: 'http://y.test/', appId: 'b' }]);
    const { targets } = resolveTargets(config.webhooks, config.api.clients);
    expect(targets.map((t) => [t.key, t.secret])).toEqual([
      ['ka', 'sa'],
      ['kb', 'sb'],
    ]);
    // A receiver keeps its queue across restarts and nodes: its id depends on its URL and app only.
    expect(targets[0].id).toMatch(/^[0-9a-f]{16}$/);
    expect(resolveTargets(config.webhooks, config.api.clients).targets[0].id).toBe(targets[0].id);
    expect(targets[1].id).not.toBe(targets[0].id);
  });

  it('want the event types they list, on the channels their filter lets through', () => {
    const config = configWith([
      {
        url: 'http://x.test/',
        event_types: ['member_added'],
        filter: { channel_name_starts_with: 'presence-', channel_name_ends_with: '.eu' },
      },
    ]);
    const [target] = resolveTargets(config.webhooks, config.api.clients).targets;
    expect(wants(target, event('member_added', 'presence-team.eu'))).toBe(true);
    expect(wants(target, event('member_removed', 'presence-team.eu'))).toBe(false);
    expect(wants(target, event('member_added', 'presence-team.us'))).toBe(false);
    expect(wants(target, event('member_added', 'team.eu'))).toBe(false);
    expect(anyTargetWants(config.webhooks, ['channel_occupied', 'channel_vacated'])).toBe(false);
    expect(anyTargetWants(config.webhooks, ['member_added'])).toBe(true);
  });

  it('sign exactly the bytes sent: hex HMAC-SHA256 with the secret', () => {
    const body = '{"time_ms":1,"events":[{"name":"channel_occupied","channel":"caf\u00e9"}]}';
    expect(sign(body, 'sa')).toBe(createHmac('sha256', 'sa').update(Buffer.from(body, 'utf8')).digest('hex'));
    expect(sign(body, 'sa')).toMatch(/^[0-9a-f]{64}$/);
  });
});
