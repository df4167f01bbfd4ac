/** The events a webhook can carry, by their Pusher names. */
export const WEBHOOK_EVENT_TYPES = [
  'channel_occupied',
  'channel_vacated',
  'member_added',
  'member_removed',
  'client_event',
  'cache_miss',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
