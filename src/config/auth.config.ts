import { IsString } from 'class-validator';
import type { ConfigKey } from './config-keys.js';

/** Authorisation of private and presence channels (the channels feature owns this section). */
export class AuthConfig {
  /** Laravel app base URL(s) for the auth call; the old `authHost`. @default ['http://localhost'] */
  @IsString({ each: true }) host!: string[];
  /** Path of Laravel's auth route; the old `authEndpoint`. @default '/broadcasting/auth' */
  @IsString() endpoint!: string;
}

export const AUTH_CONFIG_KEYS: readonly ConfigKey[] = [
  { path: 'auth.host', file: 'authHost', env: ['LARAVEL_ECHO_SERVER_AUTH_HOST', 'ECHO_RELAY_AUTH_HOST'], kind: 'list' },
  { path: 'auth.endpoint', file: 'authEndpoint', env: ['ECHO_RELAY_AUTH_ENDPOINT'], kind: 'string' },
];

export function defaultAuthConfig(): Partial<AuthConfig> {
  return { host: ['http://localhost'], endpoint: '/broadcasting/auth' };
}
