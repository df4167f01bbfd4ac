import { describe, expect, it } from '@jest/globals';
import { fromLegacyFile, loadConfig } from '../config/load-config.js';

const cwd = '/nonexistent-dir-for-config-tests';
const CLIENTS = JSON.stringify([
  { appId: 'no-secret', key: 'k0' },
  { appId: 'app-1', key: 'k1', secret: 's1' },
]);

describe('webhooks settings', () => {
  it('takes the receivers from the top-level "webhooks" array of the file, without warnings', () => {
    const warnings: string[] = [];
    const webhooks = [{ url: 'https://app.test/hooks', event_types: ['member_added'] }];
    expect(fromLegacyFile({ webhooks, webhookLeaveDelayMs: 0 }, warnings)).toEqual({
      webhooks: { targets: webhooks, leaveDelayMs: 0 },
    });
    expect(warnings).toEqual([]);
  });

  it('accepts one receiver by URL from the environment, signed by the first client with a secret', () => {
    const { config } = loadConfig({
      cwd,
      env: { ECHO_RELAY_CLIENTS: CLIENTS, ECHO_RELAY_WEBHOOK_URL: 'http://app.test/hooks' },
    });
    expect(config.webhooks).toMatchObject({ url: 'http://app.test/hooks', batchMs: 50, leaveDelayMs: 3000 });
  });

  it('stops startup when a receiver has no secret to sign with, naming it', () => {
    expect(() => loadConfig({ cwd, env: { ECHO_RELAY_WEBHOOK_URL: 'http://app.test/hooks' } })).toThrow(
      'webhooks.url (file "webhookUrl", env ECHO_RELAY_WEBHOOK_URL): no secret to sign with: no clients entry has a "secret"',
    );
    const webhooks = JSON.stringify([{ url: 'http://app.test/hooks', appId: 'no-secret' }]);
    expect(() => loadConfig({ cwd, env: { ECHO_RELAY_CLIENTS: CLIENTS, ECHO_RELAY_WEBHOOKS: webhooks } })).toThrow(
      'webhooks[0]: no secret to sign with: the clients entry "no-secret"',
    );
  });

  it('refuses a receiver URL that is not http(s), an unknown event type and a bad filter', () => {
    const load = (targets: unknown[]): unknown =>
      loadConfig({ cwd, env: { ECHO_RELAY_CLIENTS: CLIENTS, ECHO_RELAY_WEBHOOKS: JSON.stringify(targets) } });
    expect(() =>
      loadConfig({ cwd, env: { ECHO_RELAY_CLIENTS: CLIENTS, ECHO_RELAY_WEBHOOKS: '{"url":"http://a.test/"}' } }),
    ).toThrow(/webhooks\.targets \(env ECHO_RELAY_WEBHOOKS\): expected a list \[\.\.\.\], got an object/);
    expect(() => load([{ url: 'http://a.test/', headers: { 'X-Token': 7 } }])).toThrow(
      'webhooks[0].headers.X-Token: must be a string (got 7)',
    );
    expect(() => load([{ url: 'ftp://app.test/' }])).toThrow('webhooks[0].url: must be http or https');
    expect(() => load([{ url: 'app.test/hooks' }])).toThrow('webhooks[0].url: not a URL');
    // The url alone (webhookUrl) is named by its file key and variable, once, not as "….url".
    expect(() => loadConfig({ cwd, env: { ECHO_RELAY_CLIENTS: CLIENTS, ECHO_RELAY_WEBHOOK_URL: 'nope' } })).toThrow(
      /^Invalid configuration: webhooks\.url \(file "webhookUrl", env ECHO_RELAY_WEBHOOK_URL\): not a URL/,
    );
    expect(() => load([{ url: 'http://a.test/', event_types: ['channel_emptied'] }])).toThrow(
      /webhooks\.targets\.0\.event_types/,
    );
    expect(() => load([{ url: 'http://a.test/', filter: { channel_name_starts_with: 7 } }])).toThrow(
      /webhooks\.targets\.0\.filter\.channel_name_starts_with/,
    );
  });
});
