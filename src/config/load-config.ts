import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from '../internals/class-validator.js';
import { isPlainObject, type PlainObject } from '../common/plain-object.js';
import { CONFIG_KEYS, describeKey } from './config-keys.js';
import { checkShape, type Findings } from './config-shapes.js';
import type { ConfigKey, ValueKind } from './config-slice.js';
import { checkEnvNames } from './env-names.js';
import { checkFileKeys } from './file-keys.js';
import { withLegacyDotEnv } from './legacy-dotenv.js';
import { deepMerge, getPath, setPath } from './deep-merge.js';
import { RelayConfig, configSlices, defaultConfig } from './relay-config.js';

/** A configuration problem that must stop startup; the message names the key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadedConfig {
  config: RelayConfig;
  /** Things worth one log line at startup (unsupported keys of the old file). */
  warnings: string[];
  /** File keys an environment variable overrides, as `port (PORT)`: names only, never values. */
  overrides: string[];
}

export interface LoadOptions {
  /** Path given with `--config`; without it `./laravel-echo-server.json` is read when present. */
  file?: string;
  /** The environment; `LARAVEL_ECHO_SERVER_…` variables of `<cwd>/.env` are added (see `withLegacyDotEnv`). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const LEGACY_FILE = 'laravel-echo-server.json';

/** Builds the configuration from defaults, then the old JSON file, then env, and validates it. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const warnings: string[] = [];
  const env = withLegacyDotEnv(options.env ?? process.env, cwd, warnings);
  let fileLayer: PlainObject = {};
  let sourceFile: string | undefined;
  let overrides: string[] = [];
  const explicit = options.file !== undefined;
  const path = resolve(cwd, options.file ?? LEGACY_FILE);
  if (explicit || existsSync(path)) {
    const raw = readJsonFile(path);
    fileLayer = fromLegacyFile(raw, warnings);
    overrides = envOverrides(raw, env);
    sourceFile = path;
  }
  const merged = deepMerge(defaultConfig(), fileLayer, fromEnv(env, warnings));
  return { config: validate({ ...merged, sourceFile }), warnings, overrides };
}

/** Stops startup with every problem found, one line each. */
function fail(problems: string[]): never {
  if (problems.length === 1) throw new ConfigError(`Invalid configuration: ${problems[0]}`);
  throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

function readJsonFile(path: string): PlainObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw new ConfigError(`Config file ${path} must hold a JSON object`);
  return parsed;
}

/**
 * Maps an old laravel-echo-server.json (read unchanged) onto the `RelayConfig` shape. A value of
 * the wrong shape or a near miss of a known key is a `ConfigError`; other unknown keys are warnings.
 */
export function fromLegacyFile(raw: PlainObject, warnings: string[] = []): PlainObject {
  const found: Findings = checkFileKeys(raw);
  const layer: PlainObject = {};
  for (const key of CONFIG_KEYS) {
    if (!key.file) continue;
    const value = getPath(raw, key.file);
    if (value === undefined || (value === null && key.nullable)) continue;
    if (value === null) {
      // laravel-echo-server passed a null on (to ioredis, to listen()), which mostly meant its
      // default: a file that started it still starts, and the log says which keys were ignored.
      warnings.push(
        `${key.path} (file "${key.file}"): null ignored, the default applies; remove the key to silence this`,
      );
      continue;
    }
    const coerced = coerceFileValue(value, key.kind);
    if (key.kind === 'list' && typeof value === 'string' && value.trim() !== '' && isEmptyList(coerced)) {
      found.problems.push(`${key.path} (file "${key.file}"): ${JSON.stringify(value)} holds no entries`);
      continue;
    }
    checkShape(key, coerced, `file "${key.file}"`, found);
    setPath(layer, key.path, coerced);
  }
  if (found.problems.length > 0) fail(found.problems);
  warnings.push(...found.warnings);
  for (const [, slice] of configSlices()) slice.fromLegacyFile?.(raw, layer, warnings);
  return layer;
}

/** File keys that an environment variable replaces: operators see that `PORT` beat `"port"`. */
function envOverrides(raw: PlainObject, env: NodeJS.ProcessEnv): string[] {
  return CONFIG_KEYS.flatMap((key) => {
    const fileValue = key.file === undefined ? undefined : getPath(raw, key.file);
    if (fileValue === undefined || fileValue === null) return [];
    const winner = key.env.filter((name) => envValue(env, name, key) !== undefined).pop();
    return winner ? [`${key.file} (${winner})`] : [];
  });
}

/** The variable's value when it sets the key: empty means "unset" except for strings and lists. */
function envValue(env: NodeJS.ProcessEnv, name: string, key: ConfigKey): string | undefined {
  const value = env[name];
  // An empty string is a real value only for strings (REDIS_PREFIX= means "no prefix").
  if (value === '' && key.kind !== 'string' && key.kind !== 'list') return undefined;
  return value;
}

/** The old server accepted `"port": "6001"`; so do we. Anything else is left for validation. */
function coerceFileValue(value: unknown, kind: ValueKind): unknown {
  if (typeof value !== 'string') return value;
  if (kind === 'int' && /^\d+$/.test(value)) return Number(value);
  if (kind === 'bool' && (value === 'true' || value === 'false')) return value === 'true';
  if (kind === 'list') return splitList(value);
  return value;
}

/** Maps environment variables onto the `RelayConfig` shape. */
export function fromEnv(env: NodeJS.ProcessEnv, warnings: string[] = []): PlainObject {
  const layer: PlainObject = {};
  const found: Findings = { problems: [], warnings: [] };
  checkEnvNames(env, found);
  for (const key of CONFIG_KEYS) {
    for (const name of key.env) {
      const value = envValue(env, name, key);
      if (value === undefined) continue;
      const parsed = parseEnvValue(name, value, key.kind);
      // `A,,,` or `,` is a slip, not "no entries": an empty list can mean "any" (allowedOrigins).
      if (key.kind === 'list' && value.trim() !== '' && isEmptyList(parsed)) {
        found.problems.push(`${key.path} (env ${name}): ${JSON.stringify(value)} holds no entries`);
        continue;
      }
      if (key.kind === 'json') checkShape(key, parsed, `env ${name}`, found);
      setPath(layer, key.path, parsed);
    }
  }
  if (found.problems.length > 0) fail(found.problems);
  warnings.push(...found.warnings);
  return layer;
}

function parseEnvValue(name: string, value: string, kind: ValueKind): unknown {
  switch (kind) {
    case 'int':
      if (!/^\d+$/.test(value.trim())) throw new ConfigError(`env ${name}: expected a whole number, got "${value}"`);
      return Number(value);
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(value)) return true;
      if (/^(0|false|no|off)$/i.test(value)) return false;
      throw new ConfigError(`env ${name}: expected true or false, got "${value}"`);
    case 'list':
      return splitList(value);
    case 'json':
      try {
        return JSON.parse(value) as unknown;
      } catch {
        throw new ConfigError(`env ${name}: expected JSON, got "${value}"`);
      }
    default:
      return value;
  }
}

function isEmptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length === 0;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function validate(plain: PlainObject): RelayConfig {
  const config = plainToInstance(RelayConfig, plain);
  const errors = validateSync(config, { forbidUnknownValues: false });
  if (errors.length > 0) {
    fail(flatten(errors, '').map(({ path, problems }) => `${describeKey(path)}: ${problems.join('; ')}`));
  }
  const whole = config as unknown as PlainObject;
  const problems = configSlices().flatMap(([name, slice]) => slice.check?.(config[name], whole) ?? []);
  if (problems.length > 0) fail(problems);
  return config;
}

function flatten(errors: ValidationError[], base: string): { path: string; problems: string[] }[] {
  return errors.flatMap((e) => {
    const path = base ? `${base}.${e.property}` : e.property;
    const own = e.constraints
      ? [{ path, problems: Object.values(e.constraints).map((m) => `${m} (got ${JSON.stringify(e.value)})`) }]
      : [];
    return [...own, ...flatten(e.children ?? [], path)];
  });
}
