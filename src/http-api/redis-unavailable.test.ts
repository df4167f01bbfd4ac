import { describe, expect, it } from '@jest/globals';
import { isRedisConnectionError, RedisUnavailable, whileRedisAnswers } from './redis-unavailable.js';

describe('whileRedisAnswers', () => {
  it('refuses at once while Redis is down, without starting the read', async () => {
    let started = false;
    const read = (): Promise<number> => {
      started = true;
      return Promise.resolve(1);
    };
    await expect(whileRedisAnswers(() => false, read)).rejects.toBeInstanceOf(RedisUnavailable);
    expect(started).toBe(false);
  });

  it('passes answers and our own faults through unchanged', async () => {
    await expect(
      whileRedisAnswers(
        () => true,
        () => Promise.resolve(42),
      ),
    ).resolves.toBe(42);
    const fault = new TypeError('a bug of ours');
    await expect(
      whileRedisAnswers(
        () => true,
        () => Promise.reject(fault),
      ),
    ).rejects.toBe(fault);
  });

  it('turns ioredis and adapter connection failures, and a Redis lost meanwhile, into RedisUnavailable', async () => {
    for (const message of [
      "Stream isn't writeable and enableOfflineQueue options is false",
      'Connection is closed.',
      'timeout reached while waiting for fetchSockets response',
    ]) {
      await expect(
        whileRedisAnswers(
          () => true,
          () => Promise.reject(new Error(message)),
        ),
      ).rejects.toBeInstanceOf(RedisUnavailable);
    }
    let up = true;
    const lost = (): Promise<never> => {
      up = false;
      return Promise.reject(new Error('something else'));
    };
    await expect(whileRedisAnswers(() => up, lost)).rejects.toBeInstanceOf(RedisUnavailable);
  });

  it('gives up on a read still waiting after the deadline', async () => {
    const never = new Promise<number>(() => undefined);
    await expect(
      whileRedisAnswers(
        () => true,
        () => never,
        50,
      ),
    ).rejects.toThrow('Redis did not answer within 50 ms');
  });
});

describe('isRedisConnectionError', () => {
  it('knows ioredis retries given up, and nothing that is not an Error', () => {
    const retries = Object.assign(new Error('Reached the max retries per request limit'), {
      name: 'MaxRetriesPerRequestError',
    });
    expect(isRedisConnectionError(retries)).toBe(true);
    expect(isRedisConnectionError(new Error('Cannot read properties of undefined'))).toBe(false);
    expect(isRedisConnectionError('Connection is closed.')).toBe(false);
  });
});
