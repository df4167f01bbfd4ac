import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { withLegacyDotEnv } from './legacy-dotenv.js';

function dirWithDotEnv(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'echo-relay-dotenv-'));
  writeFileSync(join(dir, '.env'), lines.join('\n'));
  return dir;
}

describe('withLegacyDotEnv', () => {
  it("takes the .env's LARAVEL_ECHO_SERVER_* variables only, the environment winning", () => {
    const dir = dirWithDotEnv(['REDIS_PREFIX=app_', 'LARAVEL_ECHO_SERVER_PORT=6002', 'LARAVEL_ECHO_SERVER_DEBUG=true']);
    const env = withLegacyDotEnv({ LARAVEL_ECHO_SERVER_PORT: '7000' }, dir, []);
    expect(env).toEqual({ LARAVEL_ECHO_SERVER_PORT: '7000', LARAVEL_ECHO_SERVER_DEBUG: 'true' });
  });

  it('expands ${NAME} from the environment, then the file; an unset one leaves the variable unset', () => {
    const dir = dirWithDotEnv([
      'APP_URL=http://app.test',
      'LARAVEL_ECHO_SERVER_AUTH_HOST=${APP_URL}',
      'LARAVEL_ECHO_SERVER_REDIS_HOST=${REDIS_HOST}',
      'LARAVEL_ECHO_SERVER_REDIS_PASSWORD=${MISSING}',
    ]);
    const warnings: string[] = [];
    const env = withLegacyDotEnv({ REDIS_HOST: 'redis.internal' }, dir, warnings);
    expect(env.LARAVEL_ECHO_SERVER_AUTH_HOST).toBe('http://app.test');
    expect(env.LARAVEL_ECHO_SERVER_REDIS_HOST).toBe('redis.internal');
    expect(env).not.toHaveProperty('LARAVEL_ECHO_SERVER_REDIS_PASSWORD');
    expect(warnings).toEqual([expect.stringMatching(/LARAVEL_ECHO_SERVER_REDIS_PASSWORD: \$\{MISSING\} is not set/)]);
  });

  it('changes nothing without a .env', () => {
    const env = { PATH: '/bin', LARAVEL_ECHO_SERVER_HOST: '127.0.0.1' };
    expect(withLegacyDotEnv(env, mkdtempSync(join(tmpdir(), 'echo-relay-dotenv-')), [])).toEqual(env);
  });
});
