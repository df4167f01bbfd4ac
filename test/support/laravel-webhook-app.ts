import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpStatus } from './http.js';
import { freePort, waitUntil } from './ports.js';

const ROUTER = fileURLToPath(new URL('../../../test/fixtures/laravel/webhooks.php', import.meta.url));

/**
 * The Laravel fixture app serving `POST /webhooks/echo` with the controller of docs/webhooks.md
 * (`php -S`, Laravel's router): it verifies each request's signature with `hash_hmac` and
 * `hash_equals` and appends the events of verified ones to a file, read back by `events()`.
 */
export class LaravelWebhookApp {
  private constructor(
    private readonly child: ChildProcess,
    private readonly log: string,
    readonly url: string,
  ) {}

  static async start(secret: string): Promise<LaravelWebhookApp> {
    const port = await freePort();
    const log = join(mkdtempSync(join(tmpdir(), 'laravel-webhooks-')), 'events.jsonl');
    const child = spawn('php', ['-S', `127.0.0.1:${port}`, ROUTER], {
      env: { PATH: process.env.PATH, ECHO_RELAY_WEBHOOK_SECRET: secret, WEBHOOK_LOG: log },
      stdio: 'ignore',
    });
    const app = new LaravelWebhookApp(child, log, `http://127.0.0.1:${port}/webhooks/echo`);
    await waitUntil(async () => (await httpStatus(app.url)) > 0, 10_000, 'php -S to listen');
    return app;
  }

  /** The events the controller accepted, in order. */
  events(): { name: string; channel: string; user_id?: string }[] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { name: string; channel: string; user_id?: string });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}
