import { Injectable, Logger } from '@nestjs/common';
import { RedisConfig } from '../redis/redis.config.js';
import { ThrottledLog } from '../logging/throttled-log.js';
import { looksPrefixed } from './laravel-prefix.js';

/**
 * Warns (at most once a minute) when broadcasts arrive on channels that still look prefixed while
 * no prefix is configured: clients then wait in `orders` while events go to
 * `laravel_database_orders`.
 */
@Injectable()
export class PrefixAdvisor {
  private readonly log = new ThrottledLog(new Logger('Broadcast'), 60_000);

  constructor(private readonly redis: RedisConfig) {}

  inspect(channel: string): void {
    if (this.redis.prefix || !looksPrefixed(channel)) return;
    this.log.warn(
      'prefix',
      `Broadcast on "${channel}" looks like it carries Laravel's Redis prefix, but none is configured: ` +
        'clients subscribed to the bare name will not receive it. Set REDIS_PREFIX (or ' +
        "databaseConfig.redis.keyPrefix) to the app's database.redis.options.prefix.",
    );
  }
}
