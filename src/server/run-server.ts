import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { createLogger } from '../logging/create-logger.js';
import { releaseYoungGeneration } from './boot-heap.js';
import { startServer, type RunningServer } from './start-server.js';
import { STOP_SIGNALS, type HeldSignals, type StopSignal } from './stop-signals.js';

/** What `echo-relay start` hands the server once the command line is read. */
export interface RunServerOptions {
  /** `--config`: without it `./laravel-echo-server.json` is read when present. */
  file?: string;
  env: NodeJS.ProcessEnv;
  /**
   * Stop signals caught while this module loaded (see `holdStopSignals`): released once the
   * server's own handlers are in, and the first one caught stops it once it is up.
   */
  heldSignals?: HeldSignals;
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
    options.heldSignals?.release();
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
  // supervisor that gave up, `npm start` stopped at once), or that came while this module loaded
  // (`heldSignals`), stops it once it is up, rather than killing the process with Node's default
  // action and leaving nothing logged.
  const starting = startServer(loaded.config, { logger, warnings: loaded.warnings, notices }).catch((err: unknown) => {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    // What the app opened before it failed (Redis connections) would keep the process alive.
    process.exit(78); // EX_CONFIG
  });
  const shutdown = stopOnSignals(starting, loaded.config.shutdown.timeoutMs, log);
  // Released only now: with no listener left for a moment, Node would drop a signal not yet dispatched.
  const pending = options.heldSignals?.release();
  if (pending) shutdown(pending);
  await starting;
  releaseYoungGeneration();
}

/**
 * Stops the server once it is up, on the first of `STOP_SIGNALS` or a call of the function returned:
 * exit 0 once stopped, 1 when that takes longer than `timeoutMs` or fails. A signal that comes again while the stop runs
 * (`echo-relay stop` run twice, Ctrl-C pressed twice, a supervisor repeating itself) is logged and
 * changes nothing: Node's default action would end the drain half-way, dropping the clients,
 * leaving the sequencer lease and presence members to expire and the pid file behind.
 */
function stopOnSignals(
  starting: Promise<RunningServer | void>,
  timeoutMs: number,
  log: Logger,
): (signal: StopSignal) => void {
  let stopping = false;
  const shutdown = (signal: StopSignal): void => {
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
  return shutdown;
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
