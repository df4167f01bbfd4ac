import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CommandError, stringOption, type CliArgs } from './cli-args.js';

export const DEFAULT_CONFIG_FILE = 'laravel-echo-server.json';

/** The config file the command works on: `--dir` joined with `--config`, from the working directory. */
export function configPath(args: CliArgs, cwd = process.cwd()): string {
  return resolve(cwd, stringOption(args, 'dir') ?? '', stringOption(args, 'config') ?? DEFAULT_CONFIG_FILE);
}

/** Whether `--config`/`--dir` named a file (which then must exist) rather than the default. */
export function configNamed(args: CliArgs): boolean {
  return args.values.config !== undefined || args.values.dir !== undefined;
}

/** The old server's pid file: `laravel-echo-server.lock` beside `laravel-echo-server.json`. */
export function lockPath(config: string): string {
  return join(dirname(config), `${basename(config, '.json')}.lock`);
}

/** The file as a JSON object, or a one-line `CommandError`. */
export function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new CommandError(`No config file at ${path}: run \`echo-relay init\` first`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CommandError(`Config file ${path} is not valid JSON: ${(err as Error).message}`, 78);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CommandError(`Config file ${path} must hold a JSON object`, 78);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Writes through a temporary file and a rename, so a server reading the file (or a crash halfway)
 * never sees half of it. Tabs, as laravel-echo-server wrote it, so diffs against old files stay small.
 */
export function writeConfigFile(path: string, content: Record<string, unknown>): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(content, null, '\t')}\n`);
  renameSync(temporary, path);
}
