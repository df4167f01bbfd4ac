import { describe, expect, it } from '@jest/globals';
import { fromEnv, fromLegacyFile, loadConfig } from '../config/load-config.js';

const cwd = '/nonexistent-dir-for-config-tests';

describe('redis settings', () => {
  it('maps the old databaseConfig.redis block, handing its other keys to ioredis, without warnings', () => {
    const warnings: string[] = [];
    const layer = fromLegacyFile(
      {
        databaseConfig: {
          redis: { host: 'r1', port: '6380', name: 'primary', keyPrefix: 'app_', family: 6, connectTimeout: 500 },
        },
      },
      warnings,
    );
    expect(layer).toEqual({
      redis: {
        host: 'r1',
        port: 6380,
        sentinelName: 'primary',
        prefix: 'app_',
        options: { family: 6, connectTimeout: 500 },
      },
    });
    expect(warnings).toEqual([]);
  });

  it('adds no ioredis options when the block holds only mapped keys', () => {
    expect(fromLegacyFile({ databaseConfig: { redis: { db: 2 } } })).toEqual({ redis: { db: 2 } });
    expect(loadConfig({ env: {}, cwd }).config.redis.options).toEqual({});
  });

  it('reads Sentinel and Cluster addresses from the environment as lists', () => {
    expect(
      fromEnv({
        REDIS_SENTINELS: 's1:26379, s2:26379',
        REDIS_CLUSTER_NODES: 'c1:6379,c2:6379',
        REDIS_SENTINEL_MASTER: 'm',
      }),
    ).toEqual({
      redis: { sentinels: ['s1:26379', 's2:26379'], clusterNodes: ['c1:6379', 'c2:6379'], sentinelName: 'm' },
    });
  });
});
