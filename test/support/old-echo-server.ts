import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitUntil } from './ports.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * laravel-echo-server's CLI: the root devDependency (what CI installs with `npm ci`), else the
 * benchmark's copy (bench/node_modules) in a checkout whose root install predates it.
 */
function oldServerBin(): string {
  for (const base of [ROOT, join(ROOT, 'bench/')]) {
    const bin = join(base, 'node_modules/laravel-echo-server/bin/server.js');
    if (existsSync(bin)) return bin;
  }
  throw new Error('laravel-echo-server 1.6.3 is not installed: run `npm ci` (it is a devDependency)');
}

/** laravel-echo-server 1.6.3, the server echo-relay replaces, started by its own CLI as the benchmark does. */
export class OldEchoServer {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** Starts it with `databaseConfig` (beside `redis`) on a free port; resolves once it says it is ready. */
  static async start(options: {
    redis: { host: string; port: number; keyPrefix?: string };
    authHost: string;
    databaseConfig?: Record<string, unknown>;
  }): Promise<OldEchoServer> {
    const dir = mkdtempSync(join(tmpdir(), 'laravel-echo-server-'));
    const port = await freePort();
    const config = {
      authHost: options.authHost,
      authEndpoint: '/broadcasting/auth',
      clients: [],
      database: 'redis',
      databaseConfig: { redis: options.redis, ...options.databaseConfig },
      devMode: false,
      host: '127.0.0.1',
      port,
      protocol: 'http',
      socketio: {},
      subscribers: { http: false, redis: true },
    };
    writeFileSync(join(dir, 'laravel-echo-server.json'), JSON.stringify(config));
    const child = spawn(process.execPath, [oldServerBin(), 'start'], {
      cwd: dir,
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new OldEchoServer(child, `http://127.0.0.1:${port}`);
    await waitUntil(
      () => server.output.includes('Server ready!'),
      20_000,
      `laravel-echo-server to start\n${server.output}`,
    );
    return server;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}
