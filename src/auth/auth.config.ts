import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Max, Min, ValidateNested } from '../internals/class-validator.js';
import type { ConfigSlice } from '../config/config-slice.js';
import { DEFAULT_BLOCKED_HEADERS } from './laravel/auth-target.js';

/** Verification of JSON Web Tokens for `auth.driver: 'jwt'` (stacks without Laravel sessions). */
export class JwtConfig {
  /** Shared secret for HS256/384/512 tokens. @default '' */
  @IsString() secret!: string;
  /** PEM public key or certificate (the text, or the path of a PEM file) for RS/PS/ES/EdDSA tokens. @default '' */
  @IsString() publicKey!: string;
  /** URL of a JSON Web Key Set (fetched and cached) to verify tokens with. @default '' */
  @IsString() jwksUrl!: string;
  /** Accepted `alg` values; empty accepts what the key can verify (HS256 for a secret). @default [] */
  @IsString({ each: true }) algorithms!: string[];
  /** Required `iss` claim, when set. @default '' */
  @IsString() issuer!: string;
  /** Required `aud` claim, when set. @default '' */
  @IsString() audience!: string;
  /** Claim listing the channel patterns the token grants (`*` within a dot segment, `**` across). @default 'channels' */
  @IsString() channelsClaim!: string;
  /** Claim holding presence `user_info`; `user_id` comes from the `user_id` claim, else `sub`. @default 'user_info' */
  @IsString() userInfoClaim!: string;
  /** Leeway for `exp` and `nbf`, in seconds. @default 5 */
  @IsInt() @Min(0) @Max(300) clockToleranceSec!: number;
}

/** Authorisation of private and presence channels: which authorizer `AuthModule` builds, and its settings. */
export class AuthConfig {
  /** `laravel` asks the app's `/broadcasting/auth`; `jwt` verifies a token locally. @default 'laravel' */
  @IsIn(['laravel', 'jwt']) driver!: 'laravel' | 'jwt';
  /**
   * Laravel app base URL(s) for the auth call; the old `authHost`. With several, the one whose
   * `scheme://host:port` equals the socket's Origin (or Referer) is used, else the first.
   * @default ['http://localhost']
   */
  @IsString({ each: true }) host!: string[];
  /** Path of Laravel's auth route; the old `authEndpoint`. @default '/broadcasting/auth' */
  @IsString() endpoint!: string;
  /**
   * Give up on the auth call after this many ms; the client gets `subscription_error(channel, 0)`.
   * The `jwt` driver's key set fetch has the same deadline. @default 5000
   */
  @IsInt() @Min(100) @Max(120_000) timeoutMs!: number;
  /** PEM file of extra CA certificates trusted for an `https` auth host (system CAs stay trusted). @default '' */
  @IsString() caFile!: string;
  /**
   * Headers the client's `auth.headers` may not pass on to the auth call (case-insensitive); the
   * framing headers (`Host`, `Content-Length`, `Connection`…) are never passed on. Setting it
   * replaces the default list. @default DEFAULT_BLOCKED_HEADERS (proxy and method-override headers)
   */
  @IsString({ each: true }) blockedHeaders!: string[];
  /** Settings of the `jwt` driver. */
  @ValidateNested() @Type(() => JwtConfig) jwt!: JwtConfig;
}

export const authConfigSlice: ConfigSlice<AuthConfig> = {
  type: AuthConfig,
  /** The old server glued `authHost` and `authEndpoint` together whatever they held; each host must be a URL. */
  check(section) {
    if (section.driver !== 'laravel') return [];
    return section.host
      .filter((host) => !isHttpUrl(host))
      .map(
        (host) =>
          `auth.host (file "authHost", env LARAVEL_ECHO_SERVER_AUTH_HOST or ECHO_RELAY_AUTH_HOST): "${host}" is not an http(s) URL such as http://localhost`,
      );
  },
  defaults: () => ({
    driver: 'laravel',
    host: ['http://localhost'],
    endpoint: '/broadcasting/auth',
    timeoutMs: 5000,
    caFile: '',
    blockedHeaders: [...DEFAULT_BLOCKED_HEADERS],
    jwt: {
      secret: '',
      publicKey: '',
      jwksUrl: '',
      algorithms: [],
      issuer: '',
      audience: '',
      channelsClaim: 'channels',
      userInfoClaim: 'user_info',
      clockToleranceSec: 5,
    },
  }),
  keys: [
    { path: 'auth.driver', file: 'authDriver', env: ['ECHO_RELAY_AUTH_DRIVER'], kind: 'string' },
    {
      path: 'auth.host',
      file: 'authHost',
      env: ['LARAVEL_ECHO_SERVER_AUTH_HOST', 'ECHO_RELAY_AUTH_HOST'],
      kind: 'list',
    },
    { path: 'auth.endpoint', file: 'authEndpoint', env: ['ECHO_RELAY_AUTH_ENDPOINT'], kind: 'string' },
    { path: 'auth.timeoutMs', file: 'authTimeoutMs', env: ['ECHO_RELAY_AUTH_TIMEOUT_MS'], kind: 'int' },
    { path: 'auth.caFile', file: 'authCaFile', env: ['ECHO_RELAY_AUTH_CA_FILE'], kind: 'string' },
    {
      path: 'auth.blockedHeaders',
      file: 'authBlockedHeaders',
      env: ['ECHO_RELAY_AUTH_BLOCKED_HEADERS'],
      kind: 'list',
    },
    { path: 'auth.jwt.secret', file: 'jwt.secret', env: ['ECHO_RELAY_JWT_SECRET'], kind: 'string' },
    { path: 'auth.jwt.publicKey', file: 'jwt.publicKey', env: ['ECHO_RELAY_JWT_PUBLIC_KEY'], kind: 'string' },
    { path: 'auth.jwt.jwksUrl', file: 'jwt.jwksUrl', env: ['ECHO_RELAY_JWT_JWKS_URL'], kind: 'string' },
    { path: 'auth.jwt.algorithms', file: 'jwt.algorithms', env: ['ECHO_RELAY_JWT_ALGORITHMS'], kind: 'list' },
    { path: 'auth.jwt.issuer', file: 'jwt.issuer', env: ['ECHO_RELAY_JWT_ISSUER'], kind: 'string' },
    { path: 'auth.jwt.audience', file: 'jwt.audience', env: ['ECHO_RELAY_JWT_AUDIENCE'], kind: 'string' },
    {
      path: 'auth.jwt.channelsClaim',
      file: 'jwt.channelsClaim',
      env: ['ECHO_RELAY_JWT_CHANNELS_CLAIM'],
      kind: 'string',
    },
    {
      path: 'auth.jwt.userInfoClaim',
      file: 'jwt.userInfoClaim',
      env: ['ECHO_RELAY_JWT_USER_INFO_CLAIM'],
      kind: 'string',
    },
    {
      path: 'auth.jwt.clockToleranceSec',
      file: 'jwt.clockToleranceSec',
      env: ['ECHO_RELAY_JWT_CLOCK_TOLERANCE_SEC'],
      kind: 'int',
    },
  ],
};

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
