import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from '../internals/class-validator.js';
import { isPlainObject, type PlainObject } from '../common/plain-object.js';
import { CONFIG_KEYS, FILE_KEYS_HANDLED_ELSEWHERE, describeKey } from './config-keys.js';
import type { ValueKind } from './config-slice.js';
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
}

export interface LoadOptions {
  /** Path given with `--config`; without it `./laravel-echo-server.json` is read when present. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const LEGACY_FILE = 'laravel-echo-server.json';

/** Builds the configuration from defaults, then the old JSON file, then env, and validates it. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const warnings: string[] = [];
  let fileLayer: PlainObject = {};
  let sourceFile: string | undefined;
  const explicit = options.file !== undefined;
  const path = resolve(cwd, options.file ?? LEGACY_FILE);
  if (explicit || existsSync(path)) {
    const raw = readJsonFile(path);
    fileLayer = fromLegacyFile(raw, warnings);
    sourceFile = path;
  }
  const merged = deepMerge(defaultConfig(), fileLayer, fromEnv(env));
  return { config: validate({ ...merged, sourceFile }), warnings };
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

/** Maps an old laravel-echo-server.json (read unchanged) onto the `RelayConfig` shape. */
export function fromLegacyFile(raw: PlainObject, warnings: string[] = []): PlainObject {
  const layer: PlainObject = {};
  for (const key of CONFIG_KEYS) {
    if (!key.file) continue;
    const value = getPath(raw, key.file);
    if (value === undefined || value === null) continue;
    setPath(layer, key.path, coerceFileValue(value, key.kind));
  }
  for (const [, slice] of configSlices()) slice.fromLegacyFile?.(raw, layer, warnings);
  for (const unknown of unknownLeaves(raw, '')) {
    warnings.push(`"${unknown}" in the config file is not supported by echo-relay and is ignored`);
  }
  return layer;
}

function unknownLeaves(node: PlainObject, base: string): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(node)) {
    const path = base ? `${base}.${name}` : name;
    if (CONFIG_KEYS.some((k) => k.file === path) || FILE_KEYS_HANDLED_ELSEWHERE.includes(path)) continue;
    if (isPlainObject(value) && Object.keys(value).length > 0) out.push(...unknownLeaves(value, path));
    else out.push(path);
  }
  return out;
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
export function fromEnv(env: NodeJS.ProcessEnv): PlainObject {
  const layer: PlainObject = {};
  for (const key of CONFIG_KEYS) {
    for (const name of key.env) {
      const value = env[name];
      if (value === undefined) continue;
      // An empty string is a real value only for strings (REDIS_PREFIX= means "no prefix").
      if (value === '' && key.kind !== 'string' && key.kind !== 'list') continue;
      setPath(layer, key.path, parseEnvValue(name, value, key.kind));
    }
  }
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
    const lines = flatten(errors, '').map(({ path, problems }) => `  - ${describeKey(path)}: ${problems.join('; ')}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const whole = config as unknown as PlainObject;
  const problems = configSlices().flatMap(([name, slice]) => slice.check?.(config[name], whole) ?? []);
  if (problems.length > 0)
    throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
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
