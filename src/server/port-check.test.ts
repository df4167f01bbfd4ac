import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { assertPortsFree } from './port-check.js';

const cwd = '/nonexistent-dir-for-config-tests';

describe('assertPortsFree', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function takePort(): Promise<number> {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  it('names the key and the port that is taken, for the main port and the API port', async () => {
    const taken = await takePort();
    const main = loadConfig({ cwd, env: { PORT: String(taken), ECHO_RELAY_HOST: '127.0.0.1' } }).config;
    await expect(assertPortsFree(main)).rejects.toThrow(
      new ConfigError(
        `server.port (file "port", env LARAVEL_ECHO_SERVER_PORT or PORT): port ${taken} on 127.0.0.1 is already in use`,
      ),
    );
    const api = loadConfig({
      cwd,
      env: { PORT: '0', ECHO_RELAY_API_PORT: String(taken), ECHO_RELAY_API_HOST: '127.0.0.1' },
    });
    await expect(assertPortsFree(api.config)).rejects.toThrow(
      /^api\.port \(file "apiPort", env ECHO_RELAY_API_PORT\): port \d+ on 127\.0\.0\.1 is already in use$/,
    );
  });

  it('passes free ports and port 0, and leaves them free', async () => {
    const free = await takePort();
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const { config } = loadConfig({
      cwd,
      env: { PORT: String(free), ECHO_RELAY_HOST: '127.0.0.1', ECHO_RELAY_API_PORT: '0' },
    });
    await assertPortsFree(config);
    await assertPortsFree(config); // the probe closed its listener
  });

  it('names the host key when the interface, not the port, is what fails', async () => {
    // Port 0 too: the kernel would pick the port, but the interface is still wrong.
    const notHere = loadConfig({ cwd, env: { PORT: '0', ECHO_RELAY_HOST: '192.0.2.1' } }).config;
    await expect(assertPortsFree(notHere)).rejects.toThrow(
      /^server\.host \(file "host", env LARAVEL_ECHO_SERVER_HOST or ECHO_RELAY_HOST\): 192\.0\.2\.1 is not an address of this machine$/,
    );
    const unresolvable = loadConfig({ cwd, env: { PORT: '6123', ECHO_RELAY_API_PORT: '6124' } }).config;
    unresolvable.api.host = 'no-such-host.invalid';
    await expect(assertPortsFree(unresolvable)).rejects.toThrow(
      /^api\.host \(file "apiHost", env ECHO_RELAY_API_HOST\): no-such-host\.invalid does not resolve/,
    );
  });
});
