import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { RedisConfig } from '../redis/redis.config.js';
import { ServerConfig } from '../server/server.config.js';
import { ConfigModule } from './config.module.js';
import { loadConfig } from './load-config.js';
import { RelayConfig, configSlices } from './relay-config.js';

const cwd = '/nonexistent-dir-for-config-tests';

describe('config slices', () => {
  it("keep every key under their own section's name", () => {
    for (const [name, slice] of configSlices()) {
      expect(slice.keys.length).toBeGreaterThan(0);
      for (const key of slice.keys) expect(key.path.startsWith(`${name}.`)).toBe(true);
    }
  });

  it('each have their own class, and the loader builds every section as an instance of it', () => {
    const { config } = loadConfig({ env: {}, cwd });
    const types = configSlices().map(([, slice]) => slice.type);
    expect(new Set(types).size).toBe(types.length);
    expect(config).toBeInstanceOf(RelayConfig);
    for (const [name, slice] of configSlices()) expect(config[name]).toBeInstanceOf(slice.type);
  });

  it("validate their defaults: loading with nothing set gives each section's defaults", () => {
    const { config } = loadConfig({ env: {}, cwd });
    for (const [name, slice] of configSlices()) expect(config[name]).toEqual(slice.defaults());
  });
});

describe('ConfigModule', () => {
  it('provides the whole configuration and each section under its class', async () => {
    const { config } = loadConfig({ env: { PORT: '7001', REDIS_PREFIX: 'app_' }, cwd });
    const moduleRef = await Test.createTestingModule({ imports: [ConfigModule.forRoot(config)] }).compile();
    expect(moduleRef.get(RelayConfig)).toBe(config);
    expect(moduleRef.get(ServerConfig).port).toBe(7001);
    expect(moduleRef.get(RedisConfig).prefix).toBe('app_');
    for (const [name, slice] of configSlices()) expect(moduleRef.get(slice.type)).toBe(config[name]);
    await moduleRef.close();
  });
});
