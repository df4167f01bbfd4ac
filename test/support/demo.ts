import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromiumMissing } from './browser.js';
import { httpStatus } from './http.js';
import { laravelMissing } from './laravel-app.js';
import { canListen, freePort, sleep } from './ports.js';
import { haveRedisServer } from './redis-server.js';

const DEMO = fileURLToPath(new URL('../../../examples/laravel-demo/', import.meta.url));
/** The HTTP API client of the demo's laravel-echo-server.json. */
const API = { appId: 'demo', key: 'demo-key-not-secret' };
/** run.sh's default, which pay.sh also signs with. */
export const PAYMENT_SECRET = 'demo-webhook-secret';
const run = promisify(execFile);

/** Why the demo spec cannot run here, or `false` when every peer it drives is installed. */
export function demoMissing(): string | false {
  if (!haveRedisServer()) return 'needs redis-server on PATH: apt-get install redis-server';
  const peer = laravelMissing() || chromiumMissing();
  if (peer) return peer;
  if (spawnSync('zbarimg', ['--version']).error)
    return 'needs zbarimg to read the QR code: apt-get install zbar-tools (scripts/install-peers.sh)';
  return false;
}

/** examples/laravel-demo/run.sh, running: Redis, echo-relay and the Laravel app on free ports. */
export interface RunningDemo {
  /** The Laravel app, e.g. `http://127.0.0.1:2345`. */
  app: string;
  relay: string;
  /** Sockets in `channel` across the relay, from its HTTP API (what the old server's API answered). */
  subscribers(channel: string): Promise<number>;
  /** Runs pay.sh, the README's payment provider, for `orderId`: resolves with the status it prints. */
  pay(orderId: number): Promise<string>;
  /** Sends `signal` to run.sh (Ctrl-C is SIGINT) and resolves with its exit once its trap ran. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Whether Redis, echo-relay and the app have all released their ports. */
  portsFree(): Promise<boolean>;
  output(): string;
}

/** Starts run.sh as a user would, on free ports, and waits until the app and the relay answer. */
export async function startDemo(): Promise<RunningDemo> {
  const [appPort, relayPort, redisPort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn('bash', [join(DEMO, 'run.sh')], {
    env: {
      PATH: process.env.PATH,
      DEMO_APP_PORT: String(appPort),
      DEMO_RELAY_PORT: String(relayPort),
      DEMO_REDIS_PORT: String(redisPort),
      ECHO_RELAY_LOG_FORMAT: 'json',
    },
    // Its own process group: if run.sh's trap ever failed, the spec can still end all it started.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out = (out + chunk.toString()).slice(-20_000)));
  child.stderr.on('data', (chunk: Buffer) => (out = (out + chunk.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const app = `http://127.0.0.1:${appPort}`;
  const relay = `http://127.0.0.1:${relayPort}`;
  const demo: RunningDemo = {
    app,
    relay,
    async subscribers(channel) {
      const url = `${relay}/apps/${API.appId}/channels/${encodeURIComponent(channel)}?auth_key=${API.key}`;
      const body = (await (await fetch(url)).json()) as { subscription_count?: number };
      return body.subscription_count ?? 0;
    },
    async pay(orderId) {
      const env = { PATH: process.env.PATH, DEMO_APP_PORT: String(appPort) };
      return (await run('bash', [join(DEMO, 'pay.sh'), String(orderId)], { env, timeout: 20_000 })).stdout.trim();
    },
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null) child.kill(signal);
      const code = await Promise.race([exited, sleep(15_000).then(() => 'timeout' as const)]);
      if (code !== 'timeout') return code;
      process.kill(-child.pid!, 'SIGKILL');
      throw new Error(`run.sh did not stop on ${signal} within 15 s\n${out}`);
    },
    async portsFree() {
      for (const port of [appPort, relayPort, redisPort]) if (!(await canListen(port))) return false;
      return true;
    },
    output: () => out,
  };
  const deadline = Date.now() + 60_000;
  while (!(await answers(`${app}/login`)) || !(await answers(`${relay}/ready`))) {
    if (child.exitCode !== null) throw new Error(`run.sh exited (${child.exitCode}) before the demo answered\n${out}`);
    if (Date.now() > deadline) {
      process.kill(-child.pid!, 'SIGKILL');
      throw new Error(`the demo did not answer within 60 s\n${out}`);
    }
    await sleep(100);
  }
  return demo;
}

async function answers(url: string): Promise<boolean> {
  return (await httpStatus(url).catch(() => 0)) === 200;
}

/** What a phone's camera reads from a QR code image: zbarimg's decoding of the PNG. */
export async function readQrCode(png: Buffer): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'echo-relay-qr-'));
  try {
    const file = join(dir, 'code.png');
    writeFileSync(file, png);
    const { stdout } = await run('zbarimg', ['--quiet', '--raw', file], { timeout: 10_000 });
    return stdout.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The payment provider's callback for `orderId`: signed with `secret` (HMAC-SHA256 of the body). */
export async function paymentCallback(
  app: string,
  body: unknown,
  secret = PAYMENT_SECRET,
): Promise<{ status: number; text: string }> {
  const raw = JSON.stringify(body);
  const res = await fetch(`${app}/webhooks/payments`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-signature': createHmac('sha256', secret).update(raw).digest('hex'),
    },
    body: raw,
  });
  return { status: res.status, text: await res.text() };
}
