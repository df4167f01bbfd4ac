import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { createLogger } from '../logging/create-logger.js';
import { releaseYoungGeneration } from './boot-heap.js';
import { startServer, type RunningServer } from './start-server.js';

/**
 * The signals that stop the server gracefully; SIGHUP too (the terminal it runs in went away), which
 * would otherwise end it on the spot. Other signals keep Node's default action.
 */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** What `echo-relay start` hands the server once the command line is read. */
export interface RunServerOptions {
  /** `--config`: without it `./laravel-echo-server.json` is read when present. */
  file?: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Starts the server and stops it gracefully on SIGTERM, SIGINT or SIGHUP (see `stopOnSignals`).
 * Settings `loadConfig` refuses, or a port in use, a certificate TLS cannot use, or a provider refusing its settings in Nest's injector (an
 * unreadable `authCaFile`, a bad JWT key): the message alone, no stack trace, exit 78 (EX_CONFIG).
 * Loaded by the CLI (src/cli) only for `start`, so that every other command answers without loading
 * Nest; the bundle keeps it in a file of its own (scripts/bundle.mjs).
 */
export async function runServer(options: RunServerOptions): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig({ file: options.file, env: options.env });
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exitCode = 78; // EX_CONFIG
    return;
  }
  const logger = createLogger(loaded.config.log);
  Logger.overrideLogger(logger);
  logProcessWarnings();
  const notices =
    loaded.overrides.length > 0 ? [`Environment overrides the config file for: ${loaded.overrides.join(', ')}`] : [];
  const log = new Logger('EchoRelay');
  // Handlers go in before the server starts: a SIGTERM that arrives while it is starting (a
  // supervisor that gave up, `npm start` stopped at once) stops it once it is up, rather than
  // killing the process with Node's default action and leaving nothing logged.
  const starting = startServer(loaded.config, { logger, warnings: loaded.warnings, notices }).catch((err: unknown) => {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    // What the app opened before it failed (Redis connections) would keep the process alive.
    process.exit(78); // EX_CONFIG
  });
  stopOnSignals(starting, loaded.config.shutdown.timeoutMs, log);
  await starting;
  releaseYoungGeneration();
}

/**
 * Stops the server once it is up, on the first of `STOP_SIGNALS`: exit 0 once stopped, 1 when that
 * takes longer than `timeoutMs` or fails. A signal that comes again while the stop runs
 * (`echo-relay stop` run twice, Ctrl-C pressed twice, a supervisor repeating itself) is logged and
 * changes nothing: Node's default action would end the drain half-way, dropping the clients,
 * leaving the sequencer lease and presence members to expire and the pid file behind.
 */
function stopOnSignals(starting: Promise<RunningServer | void>, timeoutMs: number, log: Logger): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      log.log(`${signal} received: already stopping (at most ${timeoutMs} ms)`);
      return;
    }
    stopping = true;
    log.log(`${signal} received: stopping`);
    const timer = setTimeout(() => {
      log.error(`Graceful stop took longer than ${timeoutMs} ms; exiting`);
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    starting
      .then((server) => server?.stop())
      .then(
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
  for (const signal of STOP_SIGNALS) process.on(signal, () => shutdown(signal));
}

/**
 * Node's own warnings (a deprecated API a dependency calls, a timer out of range, a listener count
 * past its limit) go through the relay's logger at warn level, under the context `Node`: Node
 * prints them to stderr as text, which breaks a log of one JSON object a line. Left to Node when
 * warnings are switched off (`--no-warnings`, `NODE_NO_WARNINGS=1`), which also means no listener.
 */
function logProcessWarnings(): void {
  if (process.listenerCount('warning') === 0) return;
  const log = new Logger('Node');
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => {
    log.warn(`${warning.name}${warning.code ? ` [${warning.code}]` : ''}: ${warning.message}`);
  });
}
