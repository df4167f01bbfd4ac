import { Redis } from 'ioredis';

/** One message as it crossed Redis. */
export interface TappedMessage {
  channel: string;
  payload: string;
}

/**
 * Records every PUBLISH on a Redis (pattern `*`), so a spec can compare what a client received with
 * the bytes the publisher really sent.
 */
export class RedisTap {
  readonly messages: TappedMessage[] = [];
  private readonly redis: Redis;

  private constructor(url: string) {
    this.redis = new Redis(url);
    this.redis.on('pmessage', (_pattern: string, channel: string, payload: string) =>
      this.messages.push({ channel, payload }),
    );
  }

  /** Resolves once the pattern subscription is live. */
  static async open(url: string): Promise<RedisTap> {
    const tap = new RedisTap(url);
    await tap.redis.psubscribe('*');
    return tap;
  }

  /** The payloads published on `channel`, parsed. */
  on(channel: string): { event: string; data: unknown; socket: string | null }[] {
    return this.messages
      .filter((m) => m.channel === channel)
      .map((m) => JSON.parse(m.payload) as { event: string; data: unknown; socket: string | null });
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
