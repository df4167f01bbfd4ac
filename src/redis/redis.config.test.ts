import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('redis settings that ioredis would only trip over once started', () => {
  function fileDir(file: unknown): string {
    const dir = mkdtempSync(join(tmpdir(), 'echo-relay-unit-'));
    writeFileSync(join(dir, 'laravel-echo-server.json'), JSON.stringify(file));
    return dir;
  }
  const fails = (env: NodeJS.ProcessEnv, file?: unknown) =>
    expect(() => loadConfig({ env, cwd: file === undefined ? cwd : fileDir(file) }));

  it('a REDIS_URL that is not a redis:// or rediss:// URL, or whose db is not a number', () => {
    const named = /redis\.url \(file "databaseConfig\.redis\.url", env REDIS_URL\)/;
    for (const url of ['garbage', 'redis://127.0.0.1:99999', 'redis://:@', 'redis://', 'http://127.0.0.1:6379']) {
      fails({ REDIS_URL: url }).toThrow(named);
    }
    fails({ REDIS_URL: 'redis://127.0.0.1:6379/abc' }).toThrow(/redis\.url .*: the path must be a database number/);
    fails({}, { databaseConfig: { redis: { url: 'garbage' } } }).toThrow(named);
    fails({ REDIS_URL: 'http://127.0.0.1:6379' }).toThrow(/must be redis:\/\/ or rediss:\/\/, not http:/);
  });

  it('never quotes the URL back: it may carry the password', () => {
    fails({ REDIS_URL: 'redis://u:hunter2@h/x' }).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });

  it('accepts the URLs ioredis reads', () => {
    for (const url of ['redis://127.0.0.1', 'redis://u:p@h:6380/2', 'rediss://h/', 'redis://[::1]:6379/0']) {
      expect(loadConfig({ env: { REDIS_URL: url }, cwd }).config.redis.url).toBe(url);
    }
  });

  it('sentinel and cluster addresses without a usable host and port', () => {
    fails({ REDIS_SENTINELS: 'foo,,bar:abc' }).toThrow(
      /redis\.sentinels \(.*env REDIS_SENTINELS\)\[0\]: expected host:port/,
    );
    fails({ REDIS_SENTINELS: 's1:26379,bar:abc' }).toThrow(/redis\.sentinels .*\[1\]: expected host:port .*"bar:abc"/);
    fails({}, { databaseConfig: { redis: { sentinels: 'abc' } } }).toThrow(
      /redis\.sentinels \(file "databaseConfig\.redis\.sentinels".*\[0\]/,
    );
    fails({}, { databaseConfig: { redis: { sentinels: [{ host: '127.0.0.1', port: 'x' }] } } }).toThrow(
      /redis\.sentinels .*\[0\]: expected \{"host": "…", "port": 1-65535\}/,
    );
    fails({ REDIS_CLUSTER_NODES: '::::' }).toThrow(/redis\.clusterNodes \(.*env REDIS_CLUSTER_NODES\)\[0\]/);
    fails({ REDIS_CLUSTER_NODES: 'c1:6379,:6379' }).toThrow(/redis\.clusterNodes .*\[1\]/);
    const ok = loadConfig({
      env: { REDIS_CLUSTER_NODES: 'c1:6379,c2' },
      cwd: fileDir({ databaseConfig: { redis: { sentinels: ['s1:26379', { host: 's2', port: 26379 }] } } }),
    });
    expect(ok.config.redis.clusterNodes).toEqual(['c1:6379', 'c2']);
    expect(ok.config.redis.sentinels).toHaveLength(2);
  });

  it('ioredis timing options that Node would refuse in a timer after startup', () => {
    for (const value of [-1, 1.5, 3e9, 'abc', true, null]) {
      fails({}, { databaseConfig: { redis: { connectTimeout: value } } }).toThrow(
        /"databaseConfig\.redis\.connectTimeout" in the config file: expected a whole number from 0 to 2147483647/,
      );
    }
    fails({}, { databaseConfig: { redis: { commandTimeout: -5, keepAlive: -1 } } }).toThrow(
      /commandTimeout[^]*keepAlive/,
    );
    const ok = loadConfig({
      env: {},
      cwd: fileDir({ databaseConfig: { redis: { connectTimeout: 500, maxRetriesPerRequest: null, keepAlive: 0 } } }),
    });
    expect(ok.config.redis.options).toEqual({ connectTimeout: 500, maxRetriesPerRequest: null, keepAlive: 0 });
  });
});
