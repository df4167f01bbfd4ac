import { describe, expect, it } from '@jest/globals';
import { RelayMetrics } from '../metrics/relay-metrics.js';
import { redisConfigSlice, type RedisConfig } from '../redis/redis.config.js';
import { ChannelCache, cachedFrame } from './channel-cache.js';
import { pusherConfigSlice, type PusherConfig } from './pusher.config.js';
import { cacheMissFrame, channelEventFrame, frameOfEmit } from './pusher-protocol.js';

describe('cache channel frames', () => {
  it('replays a cached event as the very frame its live delivery sent, by either path', () => {
    const data = { home: 1, away: 0, note: 'ünïcode 😀' };
    const stored = JSON.stringify({ event: 'App\\Events\\Goal', data });
    const replayed = cachedFrame('cache-match.1', stored);
    expect(replayed).toBe(channelEventFrame('App\\Events\\Goal', 'cache-match.1', data));
    expect(replayed).toBe(frameOfEmit(['App\\Events\\Goal', 'cache-match.1', data]));
    expect(cachedFrame('cache-c', JSON.stringify({ event: 'e', data: 'text' }))).toBe(
      channelEventFrame('e', 'cache-c', 'text'),
    );
  });

  it('reads nothing from what no relay wrote', () => {
    for (const text of ['', 'nope', 'null', '[]', '{"data":{}}', '{"event":1,"data":{}}', '{"event":"e"}'])
      expect(cachedFrame('cache-c', text)).toBeUndefined();
  });

  it('tells a cache miss without data, as Pusher does', () => {
    expect(JSON.parse(cacheMissFrame('private-cache-x'))).toEqual({
      event: 'pusher:cache_miss',
      channel: 'private-cache-x',
    });
  });
});

describe('ChannelCache without a Pusher endpoint', () => {
  const config = (enabled: boolean) => ({ ...pusherConfigSlice.defaults(), enabled }) as PusherConfig;
  const redis = { ...redisConfigSlice.defaults(), port: 1 } as RedisConfig;

  it('opens no connection, writes nothing and answers every read unavailable', async () => {
    for (const [enabled, clients] of [
      [false, [{ appId: 'a', key: 'k', secret: 's' }]],
      [true, [{ appId: 'a', key: 'k' }]],
    ] as const) {
      const metrics = new RelayMetrics();
      const cache = new ChannelCache(redis, config(enabled), { clients } as never, metrics);
      expect(() => cache.remember('cache-c', 'e', {})).not.toThrow();
      expect(await cache.recall('cache-c')).toEqual({ result: 'unavailable' });
      await cache.onApplicationShutdown();
    }
  });
});
