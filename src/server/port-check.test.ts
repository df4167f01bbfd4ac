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
});
