import type { Provider } from '@nestjs/common';
import { RedisConfig } from '../redis/redis.config.js';
import { BroadcastConfig } from './broadcast.config.js';
import { subscriptionPlan } from './subscription-plan.js';
import { LaravelRedisServer } from '../internals/laravel-redis.server.js';

/**
 * The Redis-transport server is built from config inside the container, so that readiness and the
 * `redis_subscribed` gauge can ask it about the subscription; `startServer` connects it to the app
 * as the microservice strategy, unless `subscribers.redis` is off (then it never subscribes).
 */
export const redisSubscriberProvider: Provider = {
  provide: LaravelRedisServer,
  inject: [RedisConfig, BroadcastConfig],
  useFactory: (redis: RedisConfig, broadcast: BroadcastConfig) =>
    new LaravelRedisServer({
      plan: subscriptionPlan(redis),
      prefix: redis.prefix,
      maxMessageBytes: broadcast.maxMessageBytes,
    }),
};
