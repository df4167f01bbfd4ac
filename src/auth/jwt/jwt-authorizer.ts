import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { AuthConfig } from '../auth.config.js';
import { ChannelAuthorizer, denied, type AuthRequest, type AuthResult } from '../channel-authorizer.js';
import { channelDataFromClaims, findToken, grantsChannel } from './jwt-claims.js';
import { jwtVerificationKey, type JwtVerificationKey } from './jwt-key.js';

/** jose error codes that mean "this token is not acceptable" rather than "we could not check". */
const TOKEN_FAULTS = new Set([
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWT_INVALID',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
]);

/**
 * For stacks without Laravel sessions: the client presents a signed token whose claims list the
 * channels it may join (glob patterns) and, for presence, who it is. No call to the app per
 * subscribe. Missing or bad token: 401; channel not granted: 403.
 */
export class JwtAuthorizer extends ChannelAuthorizer {
  private readonly verification: JwtVerificationKey;

  constructor(private readonly config: AuthConfig) {
    super();
    this.verification = jwtVerificationKey(config.jwt, config.timeoutMs);
  }

  async authorize(request: AuthRequest): Promise<AuthResult> {
    const token = findToken(request);
    if (!token) return denied(401, 'no token in auth.headers.Authorization or the handshake auth');
    let claims: JWTPayload;
    try {
      claims = await this.verify(token);
    } catch (err) {
      return verificationFailure(err);
    }
    const jwt = this.config.jwt;
    if (!grantsChannel(claims, jwt.channelsClaim, request.channel)) {
      return denied(403, `token does not grant ${request.channel}`);
    }
    if (request.type !== 'presence') return { outcome: 'allowed', status: 200 };
    const channelData = channelDataFromClaims(claims, jwt.userInfoClaim);
    if (channelData === undefined) return denied(403, 'token has neither user_id nor sub for a presence channel');
    return { outcome: 'allowed', status: 200, channelData };
  }

  private async verify(token: string): Promise<JWTPayload> {
    const jwt = this.config.jwt;
    const options = {
      algorithms: this.verification.algorithms,
      issuer: jwt.issuer || undefined,
      audience: jwt.audience || undefined,
      clockTolerance: jwt.clockToleranceSec,
    };
    const { key } = this.verification;
    // Two calls because jose's overloads differ for a key and for a key set.
    const result =
      typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
    return result.payload;
  }
}

function verificationFailure(err: unknown): AuthResult {
  if (err instanceof errors.JOSEError && TOKEN_FAULTS.has(err.code)) return denied(401, `${err.code}: ${err.message}`);
  const reason = `token could not be checked: ${(err as Error).message}`;
  const timeout = err instanceof errors.JOSEError && err.code === 'ERR_JWKS_TIMEOUT';
  return { outcome: timeout ? 'timeout' : 'error', status: 0, reason };
}
