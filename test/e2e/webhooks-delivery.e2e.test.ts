import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { joinPresence } from '../support/presence-view.js';
import { killRelay, spawnRelay, type RelayProcess } from '../support/relay-process.js';
import type { TestRelay } from '../support/relay.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { waitUntil } from '../support/ports.js';

const CLIENTS = JSON.stringify([
  { appId: 'app-1', key: 'key-1', secret: 'secret-1' },
  { appId: 'app-2', key: 'key-2', secret: 'secret-2' },
]);

async function webhookCount(relay: TestRelay, result: string): Promise<number> {
  const { values } = await relay.metrics.webhookEvents.get();
  return values.find((v) => v.labels.result === result)?.value ?? 0;
}

describe('webhook receivers: event_types, filters, signing app, headers', () => {
  const env: Record<string, string> = { ECHO_RELAY_CLIENTS: CLIENTS, ECHO_RELAY_WEBHOOK_LEAVE_DELAY_MS: '200' };
  let narrow: WebhookReceiver;
  let everything: WebhookReceiver;
  beforeAll(async () => {
    narrow = await WebhookReceiver.start('secret-1');
    everything = await WebhookReceiver.start('secret-2');
    env.ECHO_RELAY_WEBHOOKS = JSON.stringify([
      {
        url: narrow.url,
        event_types: ['member_added', 'client_event'],
        filter: { channel_name_starts_with: 'presence-team', channel_name_ends_with: '.eu' },
      },
      { url: everything.url, appId: 'app-2', headers: { 'X-Receiver-Token': 'let-me-in' } },
    ]);
  });
  afterAll(async () => {
    await narrow.down();
    await everything.down();
  });
  const fx = useFixture({ auth: { ann: { id: 1, info: { name: 'Ann' } } }, env });

  it('each receiver gets the events it asked for, signed with its app', async () => {
    const ann = await fx.echoAs('ann');
    for (const room of ['team.eu', 'team.us', 'other.eu']) await joinPresence(ann, room);
    ann.channel('team.eu');
    ann.join('team.eu').whisper('typing', 'hi');
    await everything.waitFor(() => everything.on('presence-team.eu').includes('client_event 1'), 'the whisper');
    await narrow.waitFor(() => narrow.events.length === 2, 'the narrow receiver');
    expect(narrow.events.map((e) => `${e.name} ${e.channel}`)).toEqual([
      'member_added presence-team.eu',
      'client_event presence-team.eu',
    ]);
    expect(narrow.events[1]).toMatchObject({ event: 'client-typing', data: 'hi', user_id: '1' });
    expect(everything.on('presence-team.us')).toEqual(['channel_occupied', 'member_added 1']);
    expect(everything.on('team.eu')).toEqual(['channel_occupied']);
    expect(narrow.requests.every((r) => r.signed && r.key === 'key-1')).toBe(true);
    expect(everything.requests.every((r) => r.signed && r.key === 'key-2')).toBe(true);
    expect(everything.requests[0].headers['x-receiver-token']).toBe('let-me-in');
  });
});

describe('webhook delivery through 500s, a receiver that is down and a node restart', () => {
  const env: Record<string, string> = {
    ECHO_RELAY_CLIENTS: CLIENTS,
    ECHO_RELAY_WEBHOOK_LEAVE_DELAY_MS: '200',
    ECHO_RELAY_WEBHOOK_RETRY_BASE_MS: '100',
  };
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start('secret-1');
    env.ECHO_RELAY_WEBHOOK_URL = receiver.url;
  });
  afterAll(() => receiver.down());
  const fx = useFixture({ env });

  it('keeps the events in Redis, in order, until a receiver takes them', async () => {
    const first = fx.relay;
    receiver.answer = () => 500;
    await fx.echoOn('retry-1');
    await waitUntil(async () => (await webhookCount(first, 'retried')) >= 2, 5000, 'two failed attempts');
    expect(receiver.requests.map((r) => r.status).slice(0, 2)).toEqual([500, 500]);
    await receiver.down();
    await fx.echoOn('retry-2');
    const retried = await webhookCount(first, 'retried');
    await waitUntil(async () => (await webhookCount(first, 'retried')) > retried + 1, 5000, 'refused connections');
    // The node goes (its clients with it: their channels are vacated), another one comes up.
    await first.stop();
    const second = await fx.startNode();
    receiver.answer = () => 200;
    await receiver.up();
    await receiver.waitFor(() => receiver.events.length === 4, 'every event', 15_000);
    expect(receiver.events.map((e) => `${e.name} ${e.channel}`)).toEqual([
      'channel_occupied retry-1',
      'channel_occupied retry-2',
      'channel_vacated retry-1',
      'channel_vacated retry-2',
    ]);
    expect(await webhookCount(first, 'sent')).toBe(0);
    const metrics = (): Promise<string> => fetch(`${second.apiUrl}/metrics`).then((res) => res.text());
    // Counted once the answer arrived, just after the receiver recorded the request; the queue
    // length is read at most once a second.
    await waitUntil(
      async () => /^echo_relay_webhook_events_total\{result="sent"\} 4$/m.test(await metrics()),
      5000,
      'four sent on /metrics',
    );
    await waitUntil(async () => /^echo_relay_webhook_queued 0$/m.test(await metrics()), 5000, 'an empty queue');
  });
});

describe('webhook events that cannot be delivered', () => {
  const env: Record<string, string> = {
    ECHO_RELAY_CLIENTS: CLIENTS,
    ECHO_RELAY_WEBHOOK_RETRY_BASE_MS: '100',
    ECHO_RELAY_WEBHOOK_RETRY_FOR_MS: '1000',
  };
  let garbage: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Answers every connection with bytes that are not HTTP.
    garbage = createServer((socket) => {
      sockets.add(socket.on('close', () => sockets.delete(socket)));
      socket.end('garbage\r\n\r\n');
    });
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    env.ECHO_RELAY_WEBHOOK_URL = `http://127.0.0.1:${(garbage.address() as { port: number }).port}/`;
  });
  afterAll(async () => {
    const closed = new Promise<void>((resolve) => garbage.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  });
  const fx = useFixture({ env });

  it('are retried, then dropped and counted after webhooks.retryForMs; the relay stays up', async () => {
    await fx.echoOn('nowhere');
    await waitUntil(async () => (await webhookCount(fx.relay, 'dropped')) === 1, 10_000, 'the drop');
    expect(await webhookCount(fx.relay, 'retried')).toBeGreaterThanOrEqual(2);
    expect(fx.relay.logs.matching(/Webhook to .* failed/).length).toBeGreaterThanOrEqual(1);
    expect(fx.relay.logs.matching(/Dropped 1 webhook event\(s\): undelivered/)).toHaveLength(1);
    expect(await fx.relay.ready()).toBe(200);
  });
});

describe('a webhook that cannot be signed', () => {
  it('stops startup from a config file, naming the entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-webhooks-'));
    const file = join(dir, 'laravel-echo-server.json');
    const clients = [{ appId: 'app-1', key: 'key-1' }];
    writeFileSync(file, JSON.stringify({ clients, webhooks: [{ url: 'http://127.0.0.1:9/hooks', appId: 'app-1' }] }));
    const relay = spawnRelay({ args: ['--config', file] });
    fixtureless.push(relay);
    const { code } = await relay.exited;
    expect(code).toBe(78);
    expect(relay.stderr()).toMatch(/webhooks\[0\]: no secret to sign with: the clients entry "app-1"/);
  });
  const fixtureless: RelayProcess[] = [];
  afterAll(() => Promise.all(fixtureless.map(killRelay)));
});

describe('a receiver that accepts connections and never answers', () => {
  const env: Record<string, string> = {
    ECHO_RELAY_CLIENTS: CLIENTS,
    ECHO_RELAY_WEBHOOK_TIMEOUT_MS: '200',
    ECHO_RELAY_WEBHOOK_RETRY_BASE_MS: '100',
  };
  let silent: Server;
  const held = new Set<Socket>();
  beforeAll(async () => {
    silent = createServer((socket) => void held.add(socket.on('close', () => held.delete(socket))));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    env.ECHO_RELAY_WEBHOOK_URL = `http://127.0.0.1:${(silent.address() as { port: number }).port}/`;
  });
  afterAll(async () => {
    const closed = new Promise<void>((resolve) => silent.close(() => resolve()));
    for (const socket of held) socket.destroy();
    await closed;
  });
  const fx = useFixture({ env });

  it('times out and retries, while broadcasts keep flowing to clients', async () => {
    const echo = await fx.echoOn('busy');
    const got = collect(echo, 'busy', '.tick');
    await waitUntil(async () => (await webhookCount(fx.relay, 'retried')) >= 2, 5000, 'two timed-out attempts');
    expect(fx.relay.logs.matching(/Webhook to .* failed \(no answer within 200 ms\)/).length).toBeGreaterThanOrEqual(1);
    await fx.laravel.broadcast(['busy'], 'tick', { n: 1 });
    await waitUntil(() => got.length === 1, 2000, 'the broadcast');
    expect(got).toEqual([{ n: 1 }]);
  });
});
