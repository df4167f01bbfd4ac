import type { PlainObject } from '../common/plain-object.js';

export type ValueKind = 'string' | 'int' | 'bool' | 'list' | 'json';

/**
 * Where one setting can come from: its path in `RelayConfig`, its key in an old
 * laravel-echo-server.json, and its environment variables (later names win). The loader, the error
 * messages and the README's config table all follow these rows.
 */
export interface ConfigKey {
  /** Dotted path in `RelayConfig`; the first segment is the slice's name. */
  path: string;
  /** Dotted path in laravel-echo-server.json, if the old file has this setting. */
  file?: string;
  /** Environment variables, lowest precedence first. */
  env: string[];
  kind: ValueKind;
  /**
   * For a list of objects (`clients`, `webhooks`): the keys an entry may have. Each entry must then
   * be an object, and an entry's unknown key is reported like any other (see `checkFileKeys`).
   */
  entryKeys?: readonly string[];
  /**
   * `null` in the file means the default (laravel-echo-server's init writes `"host": null` for
   * every interface). On other keys a `null` stops startup: it would silently leave the default.
   */
  nullable?: true;
}

/**
 * A block of the old file handed to a library as it is (`databaseConfig.redis` to ioredis): keys
 * the library knows pass silently, near misses of them are errors, others pass with a warning.
 */
export interface OpenBlock {
  /** Dotted path of the block in laravel-echo-server.json. */
  path: string;
  /** The library, for messages. */
  library: string;
  /** Option names the library reads. */
  knownKeys: readonly string[];
}

/**
 * One feature's section of the configuration, kept in the feature's folder: the validated class
 * (also the injection token a provider asks for), its defaults and where each of its settings comes
 * from. Changing a setting means editing one file: its field, its default and its key row.
 */
export interface ConfigSlice<T extends object> {
  /** The class-validator class of the section; `ConfigModule` provides the section under it. */
  readonly type: new () => T;
  /** The section's defaults: the old server's behaviour where it had one. */
  defaults(): Partial<T>;
  /** One row per setting. */
  readonly keys: readonly ConfigKey[];
  /** Keys of the old file read by `fromLegacyFile` below rather than through `keys`. */
  readonly legacyFileKeys?: readonly string[];
  /** Blocks of the old file passed on to a library, whose keys are checked against its options. */
  readonly openBlocks?: readonly OpenBlock[];
  /**
   * What the old file says that `keys` cannot express: writes into `layer` (shaped like
   * `RelayConfig`), or adds a startup warning.
   */
  fromLegacyFile?(file: PlainObject, layer: PlainObject, warnings: string[]): void;
  /**
   * Problems that need other sections to see (a webhook naming a client), checked once every
   * section is valid; each one names its key. `config` is the whole `RelayConfig`.
   */
  check?(section: T, config: PlainObject): string[];
}
