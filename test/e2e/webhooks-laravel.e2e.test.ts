import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { useFixture } from '../support/fixture.js';
import { laravelMissing } from '../support/laravel-app.js';
import { LaravelWebhookApp } from '../support/laravel-webhook-app.js';
import { waitUntil } from '../support/ports.js';
import { joinPresence } from '../support/presence-view.js';

const SECRET = 'laravel-webhook-secret';

(laravelMissing() ? describe.skip : describe)('a real Laravel 8 app receives and verifies webhooks', () => {
  const env: Record<string, string> = {
    ECHO_RELAY_CLIENTS: JSON.stringify([{ appId: 'app-1', key: 'key-1', secret: SECRET }]),
    ECHO_RELAY_WEBHOOK_LEAVE_DELAY_MS: '100',
  };
  let laravel: LaravelWebhookApp;
  beforeAll(async () => {
    laravel = await LaravelWebhookApp.start(SECRET);
    env.ECHO_RELAY_WEBHOOK_URL = laravel.url;
  });
  afterAll(() => laravel.stop());
  const fx = useFixture({ auth: { ann: { id: 1, info: { name: 'Ann' } } }, env });

  it('the controller of docs/webhooks.md accepts what echo-relay signs', async () => {
    const ann = await fx.echoAs('ann');
    await joinPresence(ann, 'team');
    ann.disconnect();
    await waitUntil(() => laravel.events().length === 4, 10_000, 'four events in Laravel');
    expect(laravel.events()).toEqual([
      { name: 'channel_occupied', channel: 'presence-team' },
      { name: 'member_added', channel: 'presence-team', user_id: '1' },
      { name: 'member_removed', channel: 'presence-team', user_id: '1' },
      { name: 'channel_vacated', channel: 'presence-team' },
    ]);
  });

  it('and refuses a body whose signature does not match', async () => {
    const body = JSON.stringify({ time_ms: 1, events: [{ name: 'channel_occupied', channel: 'forged' }] });
    const res = await fetch(laravel.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Pusher-Key': 'key-1', 'X-Pusher-Signature': '0'.repeat(64) },
      body,
    });
    expect(res.status).toBe(401);
    expect(laravel.events().some((e) => e.channel === 'forged')).toBe(false);
  });
});
