import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { CommandError, type CliArgs } from './cli-args.js';
import { createApiKey, createAppId } from './client-commands.js';
import { configPath, writeConfigFile } from './config-file.js';
import { answersFromFlags, askAnswers, type InitAnswers } from './init-answers.js';

/**
 * `init` (the old `configure`): writes a laravel-echo-server.json that both servers read, holding
 * only keys echo-relay supports, so starting on it logs no "not supported" warning. Questions on a
 * terminal; flags and defaults otherwise (or with `--yes`). An existing file is kept unless `--force`.
 */
export async function init(args: CliArgs): Promise<void> {
  const path = configPath(args);
  if (existsSync(path) && args.values.force !== true) {
    throw new CommandError(`${path} exists; use --force to overwrite it, or client:add to add a key`);
  }
  const interactive = process.stdin.isTTY && process.stdout.isTTY && args.values.yes !== true;
  const answers = interactive ? await askAnswers(answersFromFlags(args)) : answersFromFlags(args);
  const clients = answers.addClient ? [{ appId: createAppId(), key: createApiKey() }] : [];
  writeConfigFile(path, legacyConfig(answers, clients));
  for (const client of clients) console.log(`appId: ${client.appId}\nkey: ${client.key}`);
  const shown = relative(process.cwd(), path);
  const option = shown === 'laravel-echo-server.json' ? '' : ` --config ${shown}`;
  console.log(`Configuration saved to ${path}. Run \`echo-relay start${option}\` to serve.`);
}

/** The old file's layout and key order; settings without an old key stay environment variables. */
function legacyConfig(a: InitAnswers, clients: { appId: string; key: string }[]): Record<string, unknown> {
  return {
    authHost: a.authHost,
    authEndpoint: a.authEndpoint,
    clients,
    database: 'redis',
    databaseConfig: { redis: { host: a.redisHost, port: a.redisPort, keyPrefix: a.redisPrefix } },
    devMode: a.devMode,
    host: a.host || null,
    port: a.port,
    protocol: a.protocol,
    sslCertPath: a.sslCertPath,
    sslKeyPath: a.sslKeyPath,
    sslCertChainPath: '',
    sslPassphrase: '',
    subscribers: { http: true, redis: true },
    apiOriginAllow: { allowCors: false, allowOrigin: '', allowMethods: '', allowHeaders: '' },
  };
}
