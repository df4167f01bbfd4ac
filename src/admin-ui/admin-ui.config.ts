import { IsBoolean, IsString } from '../internals/class-validator.js';
import type { ConfigKey, ConfigSlice } from '../config/config-slice.js';

/** A bcrypt hash as `bcryptjs` writes it (`$2a$`/`$2b$`, cost, salt and hash): taken as it is. */
export const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/**
 * The socket.io Admin UI, a live view of sockets, rooms and events for developers, served at
 * `/admin` of the main port. Off by default; when off, its package is never loaded.
 */
export class AdminUiConfig {
  /** Serve the UI and instrument the socket.io server. @default false */
  @IsBoolean() enabled!: boolean;
  /** The UI's login name. @default 'admin' */
  @IsString() username!: string;
  /** The UI's password: plain text (hashed at startup) or a bcrypt hash (`$2b$…`). Required when enabled. @default '' */
  @IsString() password!: string;
}

const KEYS: readonly ConfigKey[] = [
  { path: 'adminUi.enabled', file: 'adminUi.enabled', env: ['ECHO_RELAY_ADMIN_UI_ENABLED'], kind: 'bool' },
  { path: 'adminUi.username', file: 'adminUi.username', env: ['ECHO_RELAY_ADMIN_UI_USERNAME'], kind: 'string' },
  { path: 'adminUi.password', file: 'adminUi.password', env: ['ECHO_RELAY_ADMIN_UI_PASSWORD'], kind: 'string' },
];

/** `adminUi.password (file "adminUi.password", env …)`, like `describeKey`, which this file cannot import (a cycle). */
function named(path: string): string {
  const key = KEYS.find((k) => k.path === path)!;
  return `${path} (file "${key.file}", env ${key.env.join(' or ')})`;
}

export const adminUiConfigSlice: ConfigSlice<AdminUiConfig> = {
  type: AdminUiConfig,
  defaults: () => ({ enabled: false, username: 'admin', password: '' }),
  keys: KEYS,
  // An enabled UI without a login would show every socket's headers (cookies included) to anyone.
  check(section) {
    if (!section.enabled) return [];
    const problems: string[] = [];
    if (section.username.trim() === '') {
      problems.push(`${named('adminUi.username')}: must not be empty when adminUi.enabled is true`);
    }
    if (section.password === '') {
      problems.push(`${named('adminUi.password')}: required when adminUi.enabled is true`);
    } else if (!BCRYPT_HASH.test(section.password) && Buffer.byteLength(section.password) > 72) {
      // bcrypt ignores what follows: a longer password would be accepted by its first 72 bytes alone.
      problems.push(`${named('adminUi.password')}: at most 72 bytes (bcrypt reads no further)`);
    }
    return problems;
  },
};
