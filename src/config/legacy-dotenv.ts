import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/** The variables laravel-echo-server took from a `.env` file, and the only ones echo-relay takes from it. */
const LEGACY_PREFIX = 'LARAVEL_ECHO_SERVER_';
const REFERENCE = /\$\{([^}]*)\}/g;

/**
 * The environment as laravel-echo-server saw it. It loaded the `.env` of its working directory
 * (dotenv: the real environment wins) and replaced a `LARAVEL_ECHO_SERVER_…` value holding
 * `${NAME}` with NAME's value, so a Laravel app's `.env` could say
 * `LARAVEL_ECHO_SERVER_AUTH_HOST=${APP_URL}`. Only `LARAVEL_ECHO_SERVER_…` variables are taken
 * from the file: the rest of a Laravel `.env` (`REDIS_HOST`, `REDIS_PREFIX`…) configured the old
 * server no more than it configures Laravel's own queue workers here. A reference is expanded in
 * place (the old server replaced the whole value with it); one to an unset variable leaves the
 * setting unset, with a warning.
 */
export function withLegacyDotEnv(env: NodeJS.ProcessEnv, cwd: string, warnings: string[]): NodeJS.ProcessEnv {
  const path = join(cwd, '.env');
  const file = readDotEnv(path, warnings);
  const result: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of Object.entries(file)) {
    if (name.startsWith(LEGACY_PREFIX) && result[name] === undefined) result[name] = value;
  }
  const lookup = (name: string): string | undefined => env[name] ?? file[name];
  for (const name of Object.keys(result)) {
    const value = result[name];
    if (!name.startsWith(LEGACY_PREFIX) || value === undefined || !value.includes('${')) continue;
    const expanded = value.replace(REFERENCE, (_, ref: string) => {
      const found = lookup(ref.trim());
      if (found === undefined) warnings.push(`env ${name}: \${${ref}} is not set (nor in ${path}); it expands to ""`);
      return found ?? '';
    });
    if (expanded === '') delete result[name];
    else result[name] = expanded;
  }
  return result;
}

function readDotEnv(path: string, warnings: string[]): NodeJS.Dict<string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      warnings.push(`${path} could not be read and is ignored: ${(err as Error).message}`);
    }
    return {};
  }
  return parseEnv(text);
}
