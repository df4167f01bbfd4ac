import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A wrong command line: the message, then the usage; exit 64 (EX_USAGE). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A command that could not do its work (no config file, no server running): exit 1, one line. */
export class CommandError extends Error {
  override name = 'CommandError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export const COMMANDS = ['start', 'stop', 'status', 'init', 'configure', 'client:add', 'client:remove'] as const;
export type Command = (typeof COMMANDS)[number];

type Options = NonNullable<ParseArgsConfig['options']>;

/** The old server's file options, taken by every command but `init`'s `--config` names the file to write. */
const FILE: Options = {
  config: { type: 'string', short: 'c' },
  dir: { type: 'string' },
};

/** Options per command, named as laravel-echo-server 1.6.3 named them where it had them. */
const OPTIONS: Record<Command, Options> = {
  start: { ...FILE, force: { type: 'boolean' }, dev: { type: 'boolean' } },
  stop: FILE,
  status: FILE,
  init: {
    ...FILE,
    yes: { type: 'boolean', short: 'y' },
    force: { type: 'boolean' },
    dev: { type: 'boolean' },
    host: { type: 'string' },
    port: { type: 'string' },
    protocol: { type: 'string' },
    'ssl-cert': { type: 'string' },
    'ssl-key': { type: 'string' },
    'auth-host': { type: 'string' },
    'auth-endpoint': { type: 'string' },
    'redis-host': { type: 'string' },
    'redis-port': { type: 'string' },
    'redis-prefix': { type: 'string' },
    'add-client': { type: 'boolean' },
  },
  configure: {},
  'client:add': FILE,
  'client:remove': FILE,
};
OPTIONS.configure = OPTIONS.init;

export interface CliArgs {
  /** `undefined`: no command given, which starts the server without a pid file (Docker, npm start). */
  command?: Command;
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  help: boolean;
  version: boolean;
}

/** Reads `[command] [positionals] [--options]`; anything unknown is a `UsageError`. */
export function parseCliArgs(argv: string[]): CliArgs {
  const first = argv[0];
  const named = first !== undefined && !first.startsWith('-');
  if (named && !(COMMANDS as readonly string[]).includes(first)) throw new UsageError(`Unknown command "${first}"`);
  const command = named ? (first as Command) : undefined;
  const options: Options = {
    ...OPTIONS[command ?? 'start'],
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  };
  let parsed;
  try {
    parsed = parseArgs({ args: named ? argv.slice(1) : argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { help, version, ...values } = parsed.values as Record<string, string | boolean | undefined>;
  return { command, positionals: parsed.positionals, values, help: help === true, version: version === true };
}

/** A string option, or `undefined`; `--config=` (empty) is a usage error rather than a silent default. */
export function stringOption(args: CliArgs, name: string): string | undefined {
  const value = args.values[name];
  if (value === '') throw new UsageError(`--${name} needs a value`);
  return typeof value === 'string' ? value : undefined;
}
