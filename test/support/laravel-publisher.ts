import { Redis } from 'ioredis';

/** The Lua script Laravel's RedisBroadcaster runs: one PUBLISH per channel, same payload. */
export const BROADCAST_SCRIPT = "for i = 2, #ARGV do\n  redis.call('publish', ARGV[i], ARGV[1])\nend";

/**
 * PHP's `json_encode` output: `/` escaped as `\/`, everything outside ASCII as `\uXXXX`
 * (UTF-16 surrogate pairs for emoji).
 */
export function phpJsonEncode(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Publishes broadcasts exactly as a Laravel app with the `redis` broadcast driver does. */
export class LaravelPublisher {
  readonly redis: Redis;

  constructor(
    url: string,
    /** Laravel's `database.redis.options.prefix`. */
    readonly prefix = 'laravel_database_',
  ) {
    this.redis = new Redis(url);
    // A publisher outliving its Redis (a spec that restarts it) retries quietly until closed.
    this.redis.on('error', () => undefined);
  }

  /** `broadcast(new Event)`: one EVAL publishing the same payload to every channel. */
  async broadcast(channels: string[], event: string, data: unknown, socket: string | null = null): Promise<void> {
    const payload = phpJsonEncode({ event, data, socket });
    await this.redis.eval(BROADCAST_SCRIPT, 0, payload, ...channels.map((c) => this.prefix + c));
  }

  /** Raw bytes on a raw channel name, for malformed input. */
  async publishRaw(channel: string, payload: string | Buffer): Promise<number> {
    return this.redis.publish(channel, payload);
  }

  /** Quits; safe to call twice, and does not wait on a Redis that is gone. */
  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    if (this.redis.status !== 'ready') return this.redis.disconnect();
    await this.redis.quit();
  }
}
