import { IsBoolean, IsIn } from '../internals/class-validator.js';
import type { ConfigSlice } from '../config/config-slice.js';

/** Log output. */
export class LogConfig {
  /** Lowest level written. @default 'info' */
  @IsIn(['debug', 'info', 'warn', 'error']) level!: 'debug' | 'info' | 'warn' | 'error';
  /** `json` writes one JSON object a line; `pretty` is for terminals; `auto` picks by TTY. @default 'auto' */
  @IsIn(['auto', 'json', 'pretty']) format!: 'auto' | 'json' | 'pretty';
  /** The old `devMode`: per-message and per-subscribe debug lines. @default false */
  @IsBoolean() devMode!: boolean;
}

export const logConfigSlice: ConfigSlice<LogConfig> = {
  type: LogConfig,
  defaults: () => ({ level: 'info', format: 'auto', devMode: false }),
  keys: [
    { path: 'log.level', file: 'logLevel', env: ['ECHO_RELAY_LOG_LEVEL'], kind: 'string' },
    { path: 'log.format', file: 'logFormat', env: ['ECHO_RELAY_LOG_FORMAT'], kind: 'string' },
    { path: 'log.devMode', file: 'devMode', env: ['LARAVEL_ECHO_SERVER_DEBUG', 'ECHO_RELAY_DEV_MODE'], kind: 'bool' },
  ],
};
