import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from '@jest/globals';
import { CONFIG_KEYS, describeKey } from './config-keys.js';

describe('config key table', () => {
  it('has one entry per setting and no environment variable used twice', () => {
    const paths = CONFIG_KEYS.map((k) => k.path);
    assert.equal(new Set(paths).size, paths.length);
    const envs = CONFIG_KEYS.flatMap((k) => k.env);
    assert.equal(new Set(envs).size, envs.length);
  });

  it('is documented: the README names every file key and environment variable', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const key of CONFIG_KEYS) {
      for (const env of key.env) assert.ok(readme.includes(`\`${env}\``), `README lacks ${env}`);
      const leaf = key.file?.split('.').pop();
      if (leaf) assert.ok(readme.includes(leaf), `README lacks file key ${key.file}`);
    }
  });

  it('says where a setting can be changed', () => {
    assert.equal(describeKey('server.port'), 'server.port (file "port", env LARAVEL_ECHO_SERVER_PORT or PORT)');
  });
});
