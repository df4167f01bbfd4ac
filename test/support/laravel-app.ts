import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestRedis } from './redis-server.js';

const SCRIPT = fileURLToPath(new URL('../../../test/fixtures/laravel/broadcast.php', import.meta.url));
const AUTOLOAD = '/usr/share/php/Illuminate/autoload.php';
const run = promisify(execFile);

/**
 * Why the real-Laravel specs cannot run here, or `false` when PHP, the framework and phpredis are
 * all installed (Debian packages php-cli, php-laravel-framework, php-redis; scripts/install-peers.sh).
 */
export function laravelMissing(): string | false {
  const probe = spawnSync('php', ['-r', `exit(is_file('${AUTOLOAD}') ? (extension_loaded('redis') ? 0 : 3) : 2);`]);
  if (probe.error || probe.status === null) return 'needs PHP: apt-get install php-cli (scripts/install-peers.sh)';
  if (probe.status === 2) return `needs Laravel at ${AUTOLOAD}: apt-get install php-laravel-framework`;
  if (probe.status === 3) return 'needs phpredis: apt-get install php-redis';
  return probe.status === 0 ? false : `php probe exited ${probe.status}`;
}

/** A Laravel 8 app (test/fixtures/laravel) publishing to one Redis, one PHP process per broadcast. */
export class LaravelApp {
  constructor(
    private readonly redis: TestRedis,
    /** Extra env for the app, e.g. `APP_NAME` or `REDIS_PREFIX`. */
    private readonly env: Record<string, string> = {},
  ) {}

  /** Runs `php broadcast.php <scenario> ...args` and resolves with its stdout once PHP exits. */
  async run(scenario: string, ...args: string[]): Promise<string> {
    const { stdout } = await run('php', [SCRIPT, scenario, ...args], {
      env: {
        PATH: process.env.PATH,
        REDIS_HOST: this.redis.host,
        REDIS_PORT: String(this.redis.port),
        ...this.env,
      },
      timeout: 20_000,
    });
    return stdout;
  }

  /** The framework version and the `database.redis.options.prefix` the app broadcasts with. */
  async info(): Promise<{ laravel: string; prefix: string }> {
    return JSON.parse(await this.run('info')) as { laravel: string; prefix: string };
  }
}
