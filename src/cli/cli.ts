import { existsSync, readFileSync } from 'node:fs';
import { CommandError, UsageError, parseCliArgs, type CliArgs } from './cli-args.js';
import { configNamed, configPath } from './config-file.js';
import { holdStopSignals } from '../server/stop-signals.js';

export const USAGE = `Usage: echo-relay [command] [options]

Commands (laravel-echo-server's, same options and files):
  start                  Start the server (the default); writes laravel-echo-server.lock for \`stop\`
      --force            Stop a server already recorded in the pid file first
      --dev              Debug lines per message and subscribe (devMode)
  stop                   Stop the server recorded in the pid file (SIGTERM, graceful)
  status                 Ask the running server for uptime, connections, channels and Redis state
  init                   Write a laravel-echo-server.json (asks on a terminal; -y takes the flags)
      --host --port --protocol --ssl-cert --ssl-key --auth-host --auth-endpoint
      --redis-host --redis-port --redis-prefix --dev --add-client --force
  client:add [appId]     Add an HTTP API client (or renew its key) and print the key
  client:remove <appId>  Remove an HTTP API client

Options of every command:
  -c, --config <file>    Config file (default ./laravel-echo-server.json)
      --dir <dir>        Directory the config file is in
  -h, --help             This text
  -v, --version          The version

Environment variables override the file (see the README's configuration table).`;

/**
 * Runs one command. Only `start` loads the server (Nest and every module): it is imported here, on
 * demand, and bundled into a file of its own, so `--help`, `init` or `stop` answer at once.
 * Exit codes: 64 for a wrong command line, 78 for a bad config, 1 when a command fails.
 */
export async function runCli(argv: string[]): Promise<void> {
  try {
    const args = parseCliArgs(argv);
    if (args.help) return void console.log(USAGE);
    if (args.version) return void console.log(version());
    await dispatch(args);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${USAGE}`);
      process.exitCode = 64; // EX_USAGE
    } else if (err instanceof CommandError) {
      console.error(err.message);
      process.exitCode = err.exitCode;
    } else throw err;
  }
}

async function dispatch(args: CliArgs): Promise<void> {
  switch (args.command) {
    case undefined:
      return startServer(args);
    case 'start': {
      const { claimPidFile } = await import('./pid-file.js');
      await claimPidFile(args);
      return startServer(args);
    }
    case 'stop':
      return (await import('./pid-file.js')).stop(args);
    case 'status':
      return (await import('./status-command.js')).status(args);
    case 'init':
    case 'configure':
      return (await import('./init-command.js')).init(args);
    case 'client:add':
      return (await import('./client-commands.js')).clientAdd(args);
    case 'client:remove':
      return (await import('./client-commands.js')).clientRemove(args);
  }
}

async function startServer(args: CliArgs): Promise<void> {
  if (args.positionals.length > 0) throw new UsageError(`Unknown argument "${args.positionals[0]}"`);
  const file = configNamed(args) ? configPath(args) : undefined;
  // --dev is the old flag for devMode; passed as the environment variable the loader already reads.
  const env = args.values.dev === true ? { ...process.env, ECHO_RELAY_DEV_MODE: 'true' } : process.env;
  const heldSignals = holdStopSignals();
  await import('reflect-metadata');
  const { runServer } = await import('../server/run-server.js');
  await runServer({ file, env, heldSignals });
}

/** From the nearest package.json up: this file is dist/cli/cli.js, or part of dist/echo-relay.mjs. */
function version(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    const file = new URL('package.json', dir);
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    if (dir.pathname === '/') return 'unknown';
  }
}
