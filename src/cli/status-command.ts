import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CommandError, type CliArgs } from './cli-args.js';
import { configNamed, configPath } from './config-file.js';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

interface Target {
  /** Where sockets, `/health` and `/ready` are served. */
  main: string;
  /** Where `/apps/...` is served (`api.port` gives it a listener of its own). */
  api: string;
  client?: { appId: string; key: string };
}

/**
 * `status`: asks the server the config describes (file and environment, as `start` reads them) for
 * its uptime (`/health`), Redis state (`/ready`) and, with an API client configured, connections
 * and channels (`/apps/:id/status`, `/apps/:id/channels`). Exit 0 when it is up and ready, 2 when
 * it is up but not ready (Redis down, shutting down), 1 when nothing answers.
 */
export async function status(args: CliArgs): Promise<void> {
  const target = await targetOf(args);
  const health = await get(`${target.main}/health`).catch((err: Error) => {
    throw new CommandError(`echo-relay is not running at ${target.main} (${err.message})`);
  });
  const ready = await get(`${target.main}/ready`).catch(() => undefined);
  const uptime = (detail(health, 'process').uptime as number | undefined) ?? '?';
  const redis = ready ? detail(ready, 'redis') : { status: 'unknown' };
  const redisState = redis.status === 'up' ? 'subscribed' : `${String(redis.status)} (${String(redis.message)})`;
  console.log(`echo-relay at ${target.main}: ${ready?.status === 200 ? 'ready' : 'running, not ready'}`);
  console.log(`  uptime       ${uptime} s`);
  for (const line of await counts(target)) console.log(`  ${line}`);
  console.log(`  redis        ${redisState}`);
  if (ready?.status !== 200) process.exitCode = 2;
}

async function counts(target: Target): Promise<string[]> {
  if (!target.client) {
    const why = 'unknown: no API client in the config (echo-relay client:add)';
    return [`connections  ${why}`, `channels     ${why}`];
  }
  const base = `${target.api}/apps/${encodeURIComponent(target.client.appId)}`;
  const auth = `auth_key=${encodeURIComponent(target.client.key)}`;
  const [apps, channels] = await Promise.all([get(`${base}/status?${auth}`), get(`${base}/channels?${auth}`)]);
  const failed = (a: Answer): string => `unavailable (HTTP ${a.status}: ${JSON.stringify(a.body.error ?? a.body)})`;
  return [
    `connections  ${apps.status === 200 ? String(apps.body.subscription_count) : failed(apps)}`,
    `channels     ${channels.status === 200 ? String(Object.keys(channels.body.channels as object).length) : failed(channels)}`,
  ];
}

/** The server's addresses from the same config `start` would load; a wildcard host is asked on loopback. */
async function targetOf(args: CliArgs): Promise<Target> {
  // Loaded here, not at the top: class-validator and every config slice are needed by this command only.
  const { loadConfig, ConfigError } = await import('../config/load-config.js');
  let config;
  try {
    config = loadConfig({ file: configNamed(args) ? configPath(args) : undefined }).config;
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandError(err.message, 78);
    throw err;
  }
  const { server, api } = config;
  const main = `${server.protocol}://${hostOf(server.host)}:${server.port}`;
  const apiBase = api.port === undefined ? main : `http://${hostOf(api.host)}:${api.port}`;
  return { main, api: apiBase, client: api.clients[0] };
}

function hostOf(host: string): string {
  if (host === '' || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function detail(answer: Answer, key: string): Record<string, unknown> {
  const details = answer.body.details as Record<string, Record<string, unknown>> | undefined;
  return details?.[key] ?? {};
}

/**
 * GET with a deadline, any status. HTTPS skips certificate checks: the server is asked by the
 * address it listens on (often 127.0.0.1), which its certificate rarely names, and only figures
 * are read back.
 */
function get(url: string, timeoutMs = 5000): Promise<Answer> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: parseBody(text) }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function parseBody(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
