import { createServer } from 'node:net';
import { ConfigError } from '../config/load-config.js';
import { describeKey } from '../config/config-keys.js';
import type { RelayConfig } from '../config/relay-config.js';

/**
 * Fails with a `ConfigError` naming the key and the port when a port echo-relay is told to listen
 * on is taken, before Nest starts: Nest logs "successfully started" before its listen fails, and
 * nothing should claim a start that did not happen. A port taken in the instant between this
 * check and the real listen is caught there (`portInUse`).
 */
export async function assertPortsFree(config: RelayConfig): Promise<void> {
  await assertPortFree('server.port', config.server.port, config.server.host);
  if (config.api.port !== undefined) await assertPortFree('api.port', config.api.port, config.api.host);
}

async function assertPortFree(key: string, port: number, host: string): Promise<void> {
  // Port 0: the kernel picks a free one; a host is still probed, since it may be no address of ours.
  if (port === 0 && !host) return;
  const probe = createServer();
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    probe.once('error', resolve);
    // The same arguments as the real listen, so the same address family and interfaces are tried.
    probe.listen({ port, host: host || undefined, exclusive: true }, () => resolve(undefined));
  });
  if (!error) return void (await new Promise((resolve) => probe.close(resolve)));
  throw portError(key, port, host, error);
}

/** The `ConfigError` for a failed listen on a configured port, or the error itself for other causes. */
export function portError(key: string, port: number, host: string, error: NodeJS.ErrnoException): Error {
  const where = `port ${port}${host ? ` on ${host}` : ''}`;
  if (error.code === 'EADDRINUSE') return new ConfigError(`${describeKey(key)}: ${where} is already in use`);
  if (error.code === 'EACCES') return new ConfigError(`${describeKey(key)}: no permission to listen on ${where}`);
  // The interface is what is wrong here, not the port: name the host key.
  const hostKey = key.replace(/\.port$/, '.host');
  if (error.code === 'EADDRNOTAVAIL')
    return new ConfigError(`${describeKey(hostKey)}: ${host} is not an address of this machine`);
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN' || error.code === 'EAI_FAIL')
    return new ConfigError(`${describeKey(hostKey)}: ${host} does not resolve to an address of this machine`);
  return error;
}
