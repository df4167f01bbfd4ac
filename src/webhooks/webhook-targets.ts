import { createHash } from 'node:crypto';
import type { ApiClientConfig } from '../http-api/api.config.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhook-events.js';
import type { WebhooksConfig } from './webhooks.config.js';

/** One receiver, ready to send to: its signing key and secret resolved, its filters as predicates. */
export interface WebhookTarget {
  /** Names the receiver's queue in Redis: the same URL and app on every node and after a restart. */
  id: string;
  url: string;
  /** `X-Pusher-Key`. */
  key: string;
  /** Signs the body: `X-Pusher-Signature` is its hex HMAC-SHA256. */
  secret: string;
  eventTypes: ReadonlySet<WebhookEventType>;
  startsWith: string;
  endsWith: string;
  headers: Record<string, string>;
}

/** A webhook event as queued: Pusher's fields, and `at` (when it happened, ms) for the retry limit. */
export interface QueuedEvent {
  name: WebhookEventType;
  channel: string;
  at: number;
  [field: string]: unknown;
}

/** `webhookUrl` / `ECHO_RELAY_WEBHOOK_URL`, as `describeKey` spells it (importing it here would be a cycle). */
const URL_KEY = 'webhooks.url (file "webhookUrl", env ECHO_RELAY_WEBHOOK_URL)';

/**
 * The configured receivers (`webhooks.targets`, then `webhooks.url`), each with the `clients`
 * entry that signs for it: the one its `appId` names, else the first with a `secret`. `problems`
 * name the key of each receiver that cannot be used; startup stops on any.
 */
export function resolveTargets(
  config: WebhooksConfig,
  clients: readonly ApiClientConfig[],
): { targets: WebhookTarget[]; problems: string[] } {
  const entries = [...config.targets.map((t, i) => ({ ...t, where: `webhooks[${i}]`, urlKey: `webhooks[${i}].url` }))];
  if (config.url) entries.push({ url: config.url, where: URL_KEY, urlKey: URL_KEY });
  const targets: WebhookTarget[] = [];
  const problems: string[] = [];
  for (const { where, urlKey, ...entry } of entries) {
    const problem = urlProblem(entry.url);
    if (problem) {
      problems.push(`${urlKey}: ${problem} (got ${JSON.stringify(entry.url)})`);
      continue;
    }
    const badHeader = Object.entries(entry.headers ?? {}).find(([, value]) => typeof value !== 'string');
    if (badHeader) {
      problems.push(`${where}.headers.${badHeader[0]}: must be a string (got ${JSON.stringify(badHeader[1])})`);
      continue;
    }
    const client = entry.appId
      ? clients.find((c) => c.appId === entry.appId)
      : clients.find((c) => typeof c.secret === 'string' && c.secret !== '');
    if (!client?.secret) {
      problems.push(
        `${where}: no secret to sign with: ${
          entry.appId
            ? `the clients entry "${entry.appId}" (file "clients", env ECHO_RELAY_CLIENTS)`
            : 'no clients entry'
        } has a "secret"`,
      );
      continue;
    }
    targets.push({
      id: createHash('sha1').update(`${entry.url}\n${client.appId}`).digest('hex').slice(0, 16),
      url: entry.url,
      key: client.key,
      secret: client.secret,
      eventTypes: new Set(entry.event_types ?? WEBHOOK_EVENT_TYPES),
      startsWith: entry.filter?.channel_name_starts_with ?? '',
      endsWith: entry.filter?.channel_name_ends_with ?? '',
      headers: { ...entry.headers },
    });
  }
  return { targets, problems };
}

/** Whether the receiver wants this event: its type, and its channel through the filter. */
export function wants(target: WebhookTarget, event: QueuedEvent): boolean {
  return (
    target.eventTypes.has(event.name) &&
    event.channel.startsWith(target.startsWith) &&
    event.channel.endsWith(target.endsWith)
  );
}

function urlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must be http or https';
  return undefined;
}

/** Whether some configured receiver wants one of these event types (false without webhooks). */
export function anyTargetWants(config: WebhooksConfig, types: readonly WebhookEventType[]): boolean {
  if (config.url && types.length > 0) return true;
  return config.targets.some((t) => types.some((type) => (t.event_types ?? WEBHOOK_EVENT_TYPES).includes(type)));
}
