import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import type { LogConfig } from './log.config.js';

const LEVELS: Record<LogConfig['level'], LogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
};

/**
 * Nest's console logger: one JSON object a line where logs are collected (no TTY, or
 * `format: json`), coloured text in a terminal. `devMode` lowers the level to debug, as the old
 * server's flag did.
 */
export function createLogger(config: LogConfig, isTty = Boolean(process.stdout.isTTY)): ConsoleLogger {
  const json = config.format === 'json' || (config.format === 'auto' && !isTty);
  const level = config.devMode ? 'debug' : config.level;
  return new RelayLogger({ prefix: 'echo-relay', json, colors: !json, logLevels: LEVELS[level] });
}

/**
 * Leaves config errors to the starter (`runServer`), which prints the message alone and exits 78:
 * Nest's injector logs what a provider threw, stack and all, before rethrowing it.
 */
class RelayLogger extends ConsoleLogger {
  override error(message: unknown, ...rest: unknown[]): void {
    if (message instanceof Error && message.name === 'ConfigError') return;
    super.error(message, ...rest);
  }
}
