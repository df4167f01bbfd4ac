import { createInterface } from 'node:readline/promises';
import { CommandError, UsageError, stringOption, type CliArgs } from './cli-args.js';

/** What `init` asks, with the old server's defaults plus the Redis settings it left to hand edits. */
export interface InitAnswers {
  devMode: boolean;
  host: string;
  port: number;
  protocol: 'http' | 'https';
  sslCertPath: string;
  sslKeyPath: string;
  authHost: string;
  authEndpoint: string;
  redisHost: string;
  redisPort: number;
  /** Laravel's `database.redis.options.prefix`; the one setting most old configs got wrong. */
  redisPrefix: string;
  addClient: boolean;
}

/** The answers from the flags, defaults for the rest: what `init` writes without a terminal. */
export function answersFromFlags(args: CliArgs): InitAnswers {
  const protocol = stringOption(args, 'protocol') ?? 'http';
  if (protocol !== 'http' && protocol !== 'https') throw new UsageError(`--protocol must be http or https`);
  return {
    devMode: args.values.dev === true,
    host: stringOption(args, 'host') ?? '',
    port: portOption(args, 'port', 6001),
    protocol,
    sslCertPath: stringOption(args, 'ssl-cert') ?? '',
    sslKeyPath: stringOption(args, 'ssl-key') ?? '',
    authHost: stringOption(args, 'auth-host') ?? 'http://localhost',
    authEndpoint: stringOption(args, 'auth-endpoint') ?? '/broadcasting/auth',
    redisHost: stringOption(args, 'redis-host') ?? '127.0.0.1',
    redisPort: portOption(args, 'redis-port', 6379),
    // An empty prefix is a real answer (REDIS_PREFIX=), so only an absent flag takes the default.
    redisPrefix: typeof args.values['redis-prefix'] === 'string' ? args.values['redis-prefix'] : 'laravel_database_',
    addClient: args.values['add-client'] === true,
  };
}

/** Asks each question on the terminal, the flag's value (or the default) offered in brackets. */
export async function askAnswers(defaults: InitAnswers): Promise<InitAnswers> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  // Lines through the iterator, not rl.question: it buffers lines that arrive before their
  // question (answers pasted at once), which rl.question drops.
  const lines = rl[Symbol.asyncIterator]();
  try {
    const text = async (question: string, fallback: string): Promise<string> => {
      process.stdout.write(`${question} [${fallback}] `);
      const line = await lines.next();
      if (line.done) throw new CommandError('init: input ended before every question was answered; nothing written');
      return line.value.trim() || fallback;
    };
    const yes = async (question: string, fallback: boolean): Promise<boolean> =>
      /^y/i.test(await text(question, fallback ? 'yes' : 'no'));
    const port = async (question: string, fallback: number): Promise<number> =>
      parsePort(await text(question, String(fallback)), question);
    const a = { ...defaults };
    a.devMode = await yes('Run in development mode (debug lines per message)?', a.devMode);
    a.port = await port('Port to serve on?', a.port);
    a.protocol = (await text('Serve http or https?', a.protocol)) === 'https' ? 'https' : 'http';
    if (a.protocol === 'https') {
      a.sslCertPath = await text('Path to the TLS certificate?', a.sslCertPath);
      a.sslKeyPath = await text('Path to the TLS key?', a.sslKeyPath);
    }
    a.authHost = await text('URL of the Laravel app (for /broadcasting/auth)?', a.authHost);
    a.redisHost = await text('Redis host?', a.redisHost);
    a.redisPort = await port('Redis port?', a.redisPort);
    a.redisPrefix = await text(`Laravel's Redis prefix (REDIS_PREFIX; "-" for none)?`, a.redisPrefix || '-');
    if (a.redisPrefix === '-') a.redisPrefix = '';
    a.addClient = await yes('Generate an app id and key for the HTTP API?', a.addClient);
    return a;
  } finally {
    rl.close();
  }
}

function portOption(args: CliArgs, name: string, fallback: number): number {
  const value = stringOption(args, name);
  return value === undefined ? fallback : parsePort(value, `--${name}`);
}

function parsePort(value: string, what: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`${what}: expected a port number, got "${value}"`);
  return port;
}
