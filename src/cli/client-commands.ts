import { randomBytes } from 'node:crypto';
import { CommandError, UsageError, type CliArgs } from './cli-args.js';
import { configPath, readConfigFile, writeConfigFile } from './config-file.js';

interface ApiClient {
  appId: string;
  key: string;
  [other: string]: unknown;
}

/** The old server's sizes: an 8-byte app id and a 16-byte key, hex. */
export const createAppId = (): string => randomBytes(8).toString('hex');
export const createApiKey = (): string => randomBytes(16).toString('hex');

/**
 * `client:add [appId]`: adds an HTTP API client, or gives an existing one a new key, and prints
 * both. A running server reads the file at start only: restart it to use the key.
 */
export function clientAdd(args: CliArgs): void {
  const path = configPath(args);
  const config = readConfigFile(path);
  const clients = clientsOf(config, path);
  const appId = args.positionals[0] ?? createAppId();
  const existing = clients.find((c) => c.appId === appId);
  const client = existing ?? { appId, key: '' };
  client.key = createApiKey();
  if (!existing) clients.push(client);
  writeConfigFile(path, { ...config, clients });
  console.log(existing ? 'API client updated' : 'API client added');
  console.log(`appId: ${client.appId}`);
  console.log(`key: ${client.key}`);
}

/** `client:remove <appId>`: an unknown id is an error (the old server removed the last client instead). */
export function clientRemove(args: CliArgs): void {
  const appId = args.positionals[0];
  if (!appId) throw new UsageError('client:remove needs the appId to remove');
  const path = configPath(args);
  const config = readConfigFile(path);
  const clients = clientsOf(config, path);
  const kept = clients.filter((c) => c.appId !== appId);
  if (kept.length === clients.length) throw new CommandError(`No client with appId "${appId}" in ${path}`);
  writeConfigFile(path, { ...config, clients: kept });
  console.log(`Client removed: ${appId}`);
}

function clientsOf(config: Record<string, unknown>, path: string): ApiClient[] {
  const clients = config.clients ?? [];
  const valid =
    Array.isArray(clients) &&
    clients.every((c: unknown) => typeof c === 'object' && c !== null && typeof (c as ApiClient).appId === 'string');
  if (!valid) throw new CommandError(`"clients" in ${path} must be an array of {appId, key}`, 78);
  return clients as ApiClient[];
}
