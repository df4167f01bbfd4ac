import { createRequire } from 'node:module';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from './config/load-config.js';
import { createLogger } from './logging/create-logger.js';
import { releaseYoungGeneration } from './server/boot-heap.js';
import { startServer } from './server/start-server.js';

const USAGE = `Usage: echo-relay start [--config <laravel-echo-server.json>]

Starts the broadcast server. Without --config, ./laravel-echo-server.json is read when present.
Environment variables override the file (see the README's configuration table).`;

/** Parses `[start] [--config <path>] [--help] [--version]`; anything else is a `ConfigError` with the usage. */
export function parseArgs(argv: string[]): { config?: string; help?: boolean; version?: boolean } {
  const args = argv[0] === 'start' ? argv.slice(1) : argv;
  const out: { config?: string; help?: boolean; version?: boolean } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') out.help = true;
    else if (arg === '--version' || arg === '-v') out.version = true;
    else if (arg === '--config' || arg === '-c') out.config = args[++i];
    else if (arg.startsWith('--config=')) out.config = arg.slice('--config='.length);
    else throw new ConfigError(`Unknown argument "${arg}"\n\n${USAGE}`);
  }
  if ('config' in out && !out.config) throw new ConfigError(`--config needs a path\n\n${USAGE}`);
  return out;
}

/**
 * Starts the server and stops it gracefully on SIGTERM/SIGINT: exit 0 once stopped, 1 when that
 * takes longer than `shutdown.timeoutMs` or fails. Bad arguments, settings `loadConfig` refuses, or
 * a port in use: the message alone, no stack trace, exit 78 (EX_CONFIG). A `ConfigError` raised
 * inside Nest's injector (an unreadable `authCaFile`, a bad JWT key) still exits 1 through Nest.
 */
export async function run(argv: string[]): Promise<void> {
  let loaded;
  try {
    const args = parseArgs(argv);
    if (args.help) return void console.log(USAGE);
    if (args.version) {
      const pkg = createRequire(import.meta.url)('../package.json') as { version: string };
      return void console.log(pkg.version);
    }
    loaded = loadConfig({ file: args.config });
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exitCode = 78; // EX_CONFIG
    return;
  }
  const logger = createLogger(loaded.config.log);
  Logger.overrideLogger(logger);
  const notices =
    loaded.overrides.length > 0 ? [`Environment overrides the config file for: ${loaded.overrides.join(', ')}`] : [];
  const server = await startServer(loaded.config, { logger, warnings: loaded.warnings, notices }).catch(
    (err: unknown) => {
      if (!(err instanceof ConfigError)) throw err;
      console.error(err.message);
      // What the app opened before it failed (Redis connections) would keep the process alive.
      process.exit(78); // EX_CONFIG
    },
  );
  releaseYoungGeneration();
  const log = new Logger('EchoRelay');
  const shutdown = (signal: string): void => {
    log.log(`${signal} received: stopping`);
    const timer = setTimeout(() => {
      log.error(`Graceful stop took longer than ${loaded.config.shutdown.timeoutMs} ms; exiting`);
      process.exit(1);
    }, loaded.config.shutdown.timeoutMs);
    timer.unref();
    server.stop().then(
      () => {
        log.log('Stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error(`Stop failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
