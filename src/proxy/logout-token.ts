/**
 * Validating an OpenID Connect Back-Channel Logout 1.0 `logout_token` (its
 * sections 2.4 and 2.6) with jose. A refusal says what failed in words that
 * are safe to send back to the identity provider and to write to a log: never
 * the token, never a key.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  type KeyObject,
  type ProtectedHeaderParameters,
} from 'jose';

/** The member of `events` that makes a JWT a logout token. */
export const BACK_CHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** The claims of a logout token that passed every check. */
export interface LogoutTokenClaims extends JWTPayload {
  iss: string;
  aud: string | string[];
  iat: number;
  jti: string;
  events: { [BACK_CHANNEL_LOGOUT_EVENT]: Record<string, unknown> } & Record<string, unknown>;
  /** The provider's subject: present when `sid` is not (and maybe with it). */
  sub?: string;
  /** The provider's session id: present when `sub` is not (and maybe with it). */
  sid?: string;
  exp?: number;
}

/** A key to verify with, or a function that finds one (what `createRemoteJWKSet` returns). */
export type VerificationKey = CryptoKey | KeyObject | JWK | Uint8Array | JWTVerifyGetKey;

/** Why a token was not accepted. */
export type RefusalKind =
  /** The token (or the request carrying it) breaks a rule: the provider must not send it again. */
  | 'invalid'
  /** The provider's key set could not be read now: the same token may pass later. */
  | 'unavailable';

export class LogoutTokenError extends Error {
  constructor(
    /** What failed, for the `error_description` and the log. */
    readonly description: string,
    readonly kind: RefusalKind = 'invalid',
  ) {
    super(description);
    this.name = 'LogoutTokenError';
  }
}

export interface LogoutTokenRules {
  issuer: string;
  audience: readonly string[];
  algorithms: readonly string[];
  key: VerificationKey;
  /** Accepted `typ` header values (compared as media types), when the header is present. */
  types: readonly string[];
  clockToleranceSeconds: number;
  maxTokenAgeSeconds: number;
}

export interface VerifiedLogoutToken {
  claims: LogoutTokenClaims;
  /** Until when (ms since the epoch) these rules would accept this token: how long its `jti` must be remembered. */
  acceptableUntil: number;
}

const MAX_JTI_LENGTH = 256;

function refuse(description: string): never {
  throw new LogoutTokenError(description);
}

/** Checks a `logout_token` exactly as section 2.6 says; throws a {@link LogoutTokenError} naming the first rule it breaks. */
export async function verifyLogoutToken(token: string, rules: LogoutTokenRules): Promise<VerifiedLogoutToken> {
  const parts = token.split('.').length;
  if (parts === 5)
    refuse(
      'logout_token is encrypted (JWE), which is not supported here: have the provider sign it without encryption',
    );
  if (parts !== 3) refuse('logout_token is not a JWT in compact serialization (header.payload.signature)');
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    refuse('logout_token has no readable JOSE header');
  }
  // Both checks are jose's too; here first, so the answer says which rule it was.
  if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none')
    refuse("logout_token is not signed (alg 'none' or no alg): a logout token must be signed");
  if (!rules.algorithms.includes(header.alg))
    refuse(`alg ${quote(header.alg)} is not allowed (allowed: ${rules.algorithms.join(', ')})`);
  if (header.typ !== undefined && !rules.types.some((typ) => sameMediaType(typ, header.typ)))
    refuse(`typ ${quote(header.typ)} is not ${rules.types.join(' or ')}: this JWT is not a logout token`);

  const payload = await verifySignatureAndTimes(token, header, rules);

  const { events } = payload;
  if (!isJsonObject(events)) refuse('the events claim is missing or not a JSON object');
  if (!Object.hasOwn(events, BACK_CHANNEL_LOGOUT_EVENT))
    refuse(`the events claim has no ${BACK_CHANNEL_LOGOUT_EVENT} member`);
  if (!isJsonObject(events[BACK_CHANNEL_LOGOUT_EVENT]))
    refuse(`the ${BACK_CHANNEL_LOGOUT_EVENT} member of events is not a JSON object`);
  if (Object.hasOwn(payload, 'nonce'))
    refuse('the token has a nonce claim, which a logout token must not have (is it an ID token?)');
  for (const claim of ['sub', 'sid'] as const) {
    const value = payload[claim];
    if (value !== undefined && (typeof value !== 'string' || value === ''))
      refuse(`the ${claim} claim is not a non-empty string`);
  }
  if (payload.sub === undefined && payload.sid === undefined)
    refuse('the token has neither a sub nor a sid claim: it names nobody to log out');
  const { jti } = payload;
  if (typeof jti !== 'string' || jti === '') refuse('the jti claim is missing or not a non-empty string');
  if (jti.length > MAX_JTI_LENGTH) refuse(`the jti claim is longer than ${MAX_JTI_LENGTH} characters`);
  if (typeof payload.iss !== 'string') refuse('the iss claim is not a string');

  // jose has checked iat (present, a number, not too old, not in the future) and exp when present.
  const claims = payload as LogoutTokenClaims;
  const tolerance = rules.clockToleranceSeconds;
  const byAge = claims.iat + rules.maxTokenAgeSeconds + tolerance;
  const until = claims.exp === undefined ? byAge : Math.min(byAge, claims.exp + tolerance);
  return { claims, acceptableUntil: until * 1000 };
}

async function verifySignatureAndTimes(
  token: string,
  header: ProtectedHeaderParameters,
  rules: LogoutTokenRules,
): Promise<JWTPayload> {
  const options = {
    issuer: rules.issuer,
    audience: [...rules.audience],
    algorithms: [...rules.algorithms],
    clockTolerance: rules.clockToleranceSeconds,
    maxTokenAge: rules.maxTokenAgeSeconds,
    requiredClaims: ['jti', 'events'],
  };
  try {
    try {
      return (await jwtVerify(token, rules.key, options)).payload;
    } catch (error) {
      // A key set with several keys that fit (no kid in the token): any one that verifies will do.
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
      let last: unknown = error;
      for await (const candidate of error) {
        try {
          return (await jwtVerify(token, candidate, options)).payload;
        } catch (failure) {
          last = failure;
          if (!(failure instanceof errors.JWSSignatureVerificationFailed)) break;
        }
      }
      throw last;
    }
  } catch (error) {
    throw refusalOf(error, header, rules);
  }
}

/** jose's error, as what failed. Anything that is not jose's (or ours) is a fault of this server: thrown on. */
function refusalOf(error: unknown, header: ProtectedHeaderParameters, rules: LogoutTokenRules): unknown {
  if (error instanceof LogoutTokenError) return error;
  if (error instanceof errors.JWTExpired) {
    return new LogoutTokenError(
      error.claim === 'iat'
        ? `the token is too old: iat is more than ${rules.maxTokenAgeSeconds} s (+${rules.clockToleranceSeconds} s tolerance) ago`
        : 'the token has expired (exp is past)',
    );
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const { claim, reason } = error;
    if (reason === 'missing') return new LogoutTokenError(`the ${claim} claim is missing`);
    if (reason === 'invalid') return new LogoutTokenError(`the ${claim} claim is not a number`);
    if (claim === 'iss') return new LogoutTokenError('iss is not the configured issuer');
    if (claim === 'aud') return new LogoutTokenError('aud does not contain the configured audience');
    if (claim === 'iat')
      return new LogoutTokenError(
        `iat is in the future (more than ${rules.clockToleranceSeconds} s ahead of this server's clock)`,
      );
    if (claim === 'nbf') return new LogoutTokenError('the token is not valid yet (nbf is in the future)');
    return new LogoutTokenError(`the ${claim} claim failed its check`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new LogoutTokenError(`alg ${quote(header.alg)} is not allowed (allowed: ${rules.algorithms.join(', ')})`);
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new LogoutTokenError("the signature does not verify with the identity provider's key");
  if (error instanceof errors.JWKSNoMatchingKey) {
    const kid = header.kid === undefined ? '' : ` with kid ${quote(header.kid)}`;
    return new LogoutTokenError(`the identity provider's key set has no ${String(header.alg)} key${kid}`);
  }
  if (error instanceof errors.JWKSTimeout)
    return new LogoutTokenError("the identity provider's key set did not answer in time", 'unavailable');
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return new LogoutTokenError(`logout_token is malformed: ${error.message}`);
  if (error instanceof errors.JOSENotSupported)
    return new LogoutTokenError(`logout_token uses something not supported: ${error.message}`);
  return error;
}

export interface RemoteKeySetOptions {
  timeoutMs: number;
  cooldownMs: number;
  cacheMaxAgeMs: number;
  fetch: typeof globalThis.fetch | undefined;
}

/**
 * The provider's published key set: fetched when first needed, kept for
 * `cacheMaxAgeMs`, and fetched again for a `kid` it does not hold (a rotated
 * key) at most once per `cooldownMs`, so forged `kid`s cannot make this server
 * hammer the provider. A key set that cannot be read is `unavailable`.
 */
export function remoteKeySet(url: URL, options: RemoteKeySetOptions): JWTVerifyGetKey {
  const { fetch: fetchImpl } = options;
  const remote = createRemoteJWKSet(url, {
    timeoutDuration: options.timeoutMs,
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: options.cacheMaxAgeMs,
    ...(fetchImpl ? { [customFetch]: (input: string, init: RequestInit) => fetchImpl(input, init) } : {}),
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported ||
        error instanceof errors.JWKSTimeout
      )
        throw error;
      // An HTTP error, a network failure, or a body that is not a key set.
      const why = error instanceof errors.JWKSInvalid ? 'it is not a JWK Set' : 'it could not be fetched';
      throw new LogoutTokenError(`the identity provider's key set could not be read: ${why}`, 'unavailable');
    }
  };
}

/** A key set given in configuration. Throws jose's error for one that is malformed. */
export function localKeySet(keySet: JSONWebKeySet): JWTVerifyGetKey {
  return createLocalJWKSet(keySet);
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `typ` values are media types, case-insensitive, with `application/` optional (RFC 7515 §4.1.9). */
function sameMediaType(a: string, b: unknown): boolean {
  const normal = (value: string) => value.toLowerCase().replace(/^application\//, '');
  return typeof b === 'string' && normal(a) === normal(b);
}

/**
 * A value from the token or request, quoted for a message: short, and only
 * the characters an OAuth `error_description` may hold (RFC 6749 §5.2).
 */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const clean = text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
  return `'${clean.length > 64 ? `${clean.slice(0, 64)}...` : clean}'`;
}
