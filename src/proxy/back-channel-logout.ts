/**
 * `createBackChannelLogout`: an OpenID Connect Back-Channel Logout 1.0
 * endpoint. The identity provider POSTs a signed `logout_token`; a valid one
 * ends every widget session of the user it names, on every device, through
 * the proxy's `revokeUser`. Any other request revokes nothing.
 *
 * Answers (section 2.8 of the specification): `200` with `Cache-Control:
 * no-store` and no body once the logout is done (also for a user with no
 * session: logging out is idempotent); `400` with `{error,
 * error_description}` (RFC 6749 §5.2) for a request that is invalid *or* a
 * logout that failed, which the specification answers alike; `405` for a
 * method other than POST.
 */
import type { JSONWebKeySet, JWK, JWTVerifyGetKey, KeyObject } from 'jose';
import { readTextCapped } from '../shared/json-body.js';
import { jsonResponse } from './errors.js';
import { defaultLog, type LogLevel, type ProxyLogEvent, type ProxyLogger } from './log.js';
import {
  localKeySet,
  LogoutTokenError,
  quote,
  remoteKeySet,
  verifyLogoutToken,
  type LogoutTokenClaims,
  type LogoutTokenRules,
  type VerificationKey,
} from './logout-token.js';
import type { ServerEndReason, WidgetSessionStore } from './store/store.js';

/**
 * What the endpoint needs of the proxy: the handler `createWidgetSessionProxy`
 * returns has both (its `store` keeps each token's `jti`, so with a shared
 * store a replay is refused by every instance).
 */
export interface BackChannelLogoutTarget {
  revokeUser(
    userId: string,
    options?: { reason?: ServerEndReason },
  ): Promise<{ ended: readonly string[]; failed: readonly string[] }>;
  readonly store: Pick<WidgetSessionStore, 'claimOnce'>;
}

/**
 * The provider's signing keys: the URL of its JWK Set (`jwks_uri` in its
 * discovery document), a JWK Set, one public JWK, a `CryptoKey` or
 * `KeyObject`, a shared secret (`Uint8Array`, for `HS*` only), or a jose key
 * resolver such as your own `createRemoteJWKSet(...)`.
 */
export type LogoutTokenKeys = string | URL | JSONWebKeySet | JWK | CryptoKey | KeyObject | Uint8Array | JWTVerifyGetKey;

export interface RemoteJwksOptions {
  /** Deadline for fetching the key set. Default 5 000 ms. */
  timeoutMs?: number;
  /**
   * After a fetch, how long a token with an unknown `kid` waits for the next
   * one (so forged `kid`s cannot make this server hammer the provider). Default 30 000 ms.
   */
  cooldownMs?: number;
  /** How long a fetched key set is used before it is fetched again. Default 600 000 ms. */
  cacheMaxAgeMs?: number;
}

export interface BackChannelLogoutOptions {
  /** The provider's issuer identifier, exactly as its tokens' `iss` (https; http only on loopback). */
  issuer: string;
  /** Your client id at the provider (or several): `aud` must contain one. */
  audience: string | readonly string[];
  /** The keys the provider signs with; see {@link LogoutTokenKeys}. */
  jwks: LogoutTokenKeys;
  /**
   * The site's user for a valid token's claims (`sub` and/or `sid`, `iss`),
   * i.e. the id `authorize` returns for that person. May be async. `null`
   * (or `undefined`, `''`): nobody here; the answer is still `200`.
   */
  userId: (claims: LogoutTokenClaims) => string | null | undefined | Promise<string | null | undefined>;
  /** The widget-session proxy whose sessions to end. */
  proxy: BackChannelLogoutTarget;
  /** Accepted `alg` values. Default: the asymmetric ones (RS*, PS*, ES*, EdDSA/Ed25519); never `none`. */
  algorithms?: readonly string[];
  /** Accepted `typ` header values when the header is present. Default `['logout+jwt']`. */
  typ?: readonly string[];
  /** How far the provider's clock may be off this server's, for `iat`, `exp`. Default 60 s. */
  clockToleranceSeconds?: number;
  /** How old (`iat`) a token may be. Default 120 s. */
  maxTokenAgeSeconds?: number;
  /** Largest body read. Default 16 384 bytes (a logout token is about 1 KB). */
  maxBodyBytes?: number;
  /** Caching of a key set given by URL. */
  remoteJwks?: RemoteJwksOptions;
  /** Fetch used for a key set given by URL. Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Receives structured log entries (never the token). Default: warnings and errors as JSON lines. */
  log?: ProxyLogger;
}

/** The endpoint: a Fetch-API handler to mount at your back-channel logout URI. */
export type BackChannelLogoutHandler = ((request: Request) => Promise<Response>) & {
  /** For `toNodeListener`: this handler reads the request body (the proxy's own reads none). */
  readonly readsBody: true;
};

const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
const SYMMETRIC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
const KNOWN_ALGORITHMS: readonly string[] = [
  ...ASYMMETRIC_ALGORITHMS,
  ...SYMMETRIC_ALGORITHMS,
  'ML-DSA-44',
  'ML-DSA-65',
  'ML-DSA-87',
];

/** Why the answer is a 400: the OAuth error code of each kind of failure. */
const ErrorCode = {
  /** The request or its token breaks a rule. */
  InvalidRequest: 'invalid_request',
  /** The provider's key set could not be read: the same token may pass later. */
  Unavailable: 'temporarily_unavailable',
  /** This server could not do the logout (`userId` or `revokeUser` threw). */
  ServerError: 'server_error',
} as const;

/**
 * Creates the endpoint. Checks every option at once and throws a `TypeError`
 * that says what to fix.
 */
export function createBackChannelLogout(options: BackChannelLogoutOptions): BackChannelLogoutHandler {
  const { rules, proxy, userId, log, maxBodyBytes } = resolveOptions(options);

  function record(level: LogLevel, event: ProxyLogEvent, status: number, detail: string): void {
    try {
      log({ level, event, status, detail });
    } catch {
      // A failing logger must not fail the request it reports on.
    }
  }

  function answerError(status: number, error: string, description: string, headers?: HeadersInit): Response {
    // RFC 6749 §5.2: an error_description holds printable ASCII but " and \ (jose's own messages quote with ").
    const text = description.replaceAll('"', "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
    return jsonResponse(status, { error, error_description: text }, headers);
  }

  function refused(error: LogoutTokenError): Response {
    if (error.kind === 'unavailable') {
      record('error', 'back-channel-logout-failed', 400, error.description);
      return answerError(400, ErrorCode.Unavailable, error.description);
    }
    record('warn', 'back-channel-logout-refused', 400, error.description);
    return answerError(400, ErrorCode.InvalidRequest, error.description);
  }

  function failed(error: unknown, step: string): Response {
    const why = error instanceof Error ? `${error.name}: ${error.message}` : `thrown ${typeof error}`;
    record('error', 'back-channel-logout-failed', 400, `${step} failed: ${why}`);
    // The specification answers a logout that failed with 400, like an invalid one; the code tells them apart.
    return answerError(400, ErrorCode.ServerError, `the logout failed on this server (${step}); see its log`);
  }

  /** The site's user, or `undefined` for nobody; throws what `userId` threw, or a TypeError for a wrong type. */
  async function userOf(claims: LogoutTokenClaims): Promise<string | undefined> {
    const user = await userId(claims);
    if (user === null || user === undefined || user === '') return undefined;
    if (typeof user !== 'string')
      throw new TypeError(`userId(claims) must return a user id string or null, got ${typeof user}`);
    return user;
  }

  /** True for a `jti` not seen before. A store that does not answer costs replay protection, not the logout. */
  async function firstUse(claims: LogoutTokenClaims, acceptableUntil: number): Promise<boolean> {
    const ttlMs = Math.max(1000, Math.ceil(acceptableUntil - Date.now()));
    try {
      return await proxy.store.claimOnce(`bcl-jti:${claims.iss}:${claims.jti}`, ttlMs);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      // Ending sessions is the safe direction: a replay accepted now can only log the user out again.
      record(
        'error',
        'back-channel-logout',
        200,
        `the store did not answer (${why}): jti accepted without replay check`,
      );
      return true;
    }
  }

  async function handler(request: Request): Promise<Response> {
    if (request.method !== 'POST') {
      discardBody(request);
      record('info', 'back-channel-logout-refused', 405, `method ${request.method}`);
      return answerError(
        405,
        ErrorCode.InvalidRequest,
        'use POST with an application/x-www-form-urlencoded logout_token',
        { allow: 'POST' },
      );
    }
    let verified;
    try {
      verified = await verifyLogoutToken(await readLogoutToken(request, maxBodyBytes), rules);
    } catch (error) {
      if (error instanceof LogoutTokenError) return refused(error);
      return failed(error, 'checking the token');
    }
    const { claims, acceptableUntil } = verified;
    let user: string | undefined;
    try {
      user = await userOf(claims);
    } catch (error) {
      // Before the jti is kept: the provider may send this very token again.
      return failed(error, 'userId(claims)');
    }
    if (!(await firstUse(claims, acceptableUntil)))
      return refused(new LogoutTokenError('jti was seen before: this logout token was already received'));
    if (user === undefined) {
      record(
        'warn',
        'back-channel-logout',
        200,
        'a valid logout token, but userId(claims) named nobody: nothing ended',
      );
      return done();
    }
    let result;
    try {
      result = await proxy.revokeUser(user, { reason: 'revoked' });
    } catch (error) {
      return failed(error, 'revokeUser');
    }
    // Deletes the vendor could not confirm now are queued by the proxy and retried: the logout is done.
    const queued = result.failed.length > 0 ? `; ${result.failed.length} delete(s) queued for retry` : '';
    record('info', 'back-channel-logout', 200, `ended ${result.ended.length} widget session(s)${queued}`);
    return done();
  }

  return Object.assign(handler, { readsBody: true as const });
}

function done(): Response {
  return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } });
}

/** The `logout_token` of an `application/x-www-form-urlencoded` body of at most `maxBytes`. */
async function readLogoutToken(request: Request, maxBytes: number): Promise<string> {
  const type = request.headers.get('content-type');
  const media = type?.split(';')[0]?.trim().toLowerCase();
  if (media !== 'application/x-www-form-urlencoded') {
    discardBody(request);
    throw new LogoutTokenError(
      `the body must be application/x-www-form-urlencoded, not ${type === null ? 'without a Content-Type' : quote(media)}`,
    );
  }
  const tooLarge = `the body is larger than ${maxBytes} bytes`;
  if (Number(request.headers.get('content-length') ?? 0) > maxBytes) {
    discardBody(request);
    throw new LogoutTokenError(tooLarge);
  }
  const text = request.body === null ? '' : await readTextCapped(request.body, maxBytes);
  if (text === undefined) throw new LogoutTokenError(tooLarge);
  const tokens = new URLSearchParams(text).getAll('logout_token');
  if (tokens.length > 1) throw new LogoutTokenError('the body has more than one logout_token');
  const token = tokens[0] ?? '';
  if (token === '') throw new LogoutTokenError('the body has no logout_token');
  return token;
}

/** Lets go of a body this endpoint will not read. */
function discardBody(request: Request): void {
  if (request.body !== null && !request.bodyUsed) request.body.cancel().catch(() => undefined);
}

interface Resolved {
  rules: LogoutTokenRules;
  proxy: BackChannelLogoutTarget;
  userId: BackChannelLogoutOptions['userId'];
  log: ProxyLogger;
  maxBodyBytes: number;
}

function fail(message: string): never {
  throw new TypeError(`konpro-widget-guard/proxy: createBackChannelLogout: ${message}`);
}

function resolveOptions(options: BackChannelLogoutOptions): Resolved {
  if (typeof options !== 'object' || options === null) fail('needs an options object');
  const issuer = resolveIssuer(options.issuer);
  const audience = resolveAudience(options.audience);
  if (typeof options.userId !== 'function')
    fail('userId must be a function (claims) => the site user id to log out, or null');
  const { proxy } = options;
  if (typeof proxy !== 'object' && typeof proxy !== 'function') fail('proxy must be the widget-session proxy');
  if (proxy === null || typeof proxy.revokeUser !== 'function')
    fail('proxy must be the widget-session proxy (createWidgetSessionProxy): it has no revokeUser');
  if (typeof proxy.store !== 'object' || proxy.store === null || typeof proxy.store.claimOnce !== 'function')
    fail('proxy must be the widget-session proxy (createWidgetSessionProxy): it has no store with claimOnce');
  if (options.log !== undefined && typeof options.log !== 'function') fail('log must be a function (entry) => void');
  if (options.fetch !== undefined && typeof options.fetch !== 'function') fail('fetch must be a fetch function');
  const algorithms = resolveAlgorithms(options.algorithms);
  const remote = options.remoteJwks ?? {};
  if (typeof remote !== 'object' || remote === null) fail('remoteJwks must be an object');
  const key = resolveKey(options.jwks, algorithms, options.algorithms !== undefined, {
    timeoutMs: wholeNumber(remote.timeoutMs, 'remoteJwks.timeoutMs', 5_000),
    cooldownMs: wholeNumber(remote.cooldownMs, 'remoteJwks.cooldownMs', 30_000),
    cacheMaxAgeMs: wholeNumber(remote.cacheMaxAgeMs, 'remoteJwks.cacheMaxAgeMs', 600_000),
    fetch: options.fetch,
  });
  const types = options.typ ?? ['logout+jwt'];
  if (!Array.isArray(types) || types.length === 0 || types.some((t) => typeof t !== 'string' || t === ''))
    fail('typ must list the accepted typ header values, such as ["logout+jwt"]');
  const maxBodyBytes = wholeNumber(options.maxBodyBytes, 'maxBodyBytes', 16_384);
  if (maxBodyBytes < 1024) fail('maxBodyBytes must be at least 1024: a logout token alone is about 1 KB');
  const maxTokenAgeSeconds = wholeNumber(options.maxTokenAgeSeconds, 'maxTokenAgeSeconds', 120);
  if (maxTokenAgeSeconds === 0) fail('maxTokenAgeSeconds must be more than 0');
  return {
    rules: {
      issuer,
      audience,
      algorithms,
      key,
      types: [...(types as readonly string[])],
      clockToleranceSeconds: wholeNumber(options.clockToleranceSeconds, 'clockToleranceSeconds', 60),
      maxTokenAgeSeconds,
    },
    proxy,
    userId: options.userId,
    log: options.log ?? defaultLog,
    maxBodyBytes,
  };
}

function wholeNumber(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    fail(`${name} must be a whole number of 0 or more, got ${typeof value === 'number' ? value : typeof value}`);
  return value;
}

/** https, or http on this machine (a local identity provider in development). */
function secureUrl(value: string, name: string, example: string): URL {
  if (!URL.canParse(value)) fail(`${name} must be an absolute URL such as "${example}"`);
  const url = new URL(value);
  const loopback = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    fail(`${name} must be an https: URL (http: only on localhost), got ${url.protocol}//${url.host}`);
  if (url.username || url.password) fail(`${name} must not contain a user name or password`);
  return url;
}

function resolveIssuer(value: unknown): string {
  if (typeof value !== 'string' || value === '')
    fail('issuer must be the identity provider\'s issuer, such as "https://login.example.com/realms/site"');
  const url = secureUrl(value, 'issuer', 'https://login.example.com/realms/site');
  if (url.search || url.hash || value.includes('?') || value.includes('#'))
    fail('issuer must not have a query or fragment (OpenID Connect issuers have none)');
  // Kept exactly as given: `iss` must be the same string (a trailing slash counts).
  return value;
}

function resolveAudience(value: unknown): string[] {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((item) => typeof item !== 'string' || item === ''))
    fail('audience must be your client id at the provider (a non-empty string, or a non-empty array of them)');
  return list as string[];
}

function resolveAlgorithms(value: unknown): string[] {
  if (value === undefined) return [...ASYMMETRIC_ALGORITHMS];
  if (!Array.isArray(value) || value.length === 0)
    fail('algorithms must list the alg values to accept, such as ["RS256"]');
  for (const alg of value) {
    if (typeof alg === 'string' && alg.toLowerCase() === 'none')
      fail('algorithms must not include "none": a logout token must be signed');
    if (typeof alg !== 'string' || !KNOWN_ALGORITHMS.includes(alg))
      fail(`algorithms: unknown alg ${JSON.stringify(alg)} (known: ${KNOWN_ALGORITHMS.join(', ')})`);
  }
  return [...(value as string[])];
}

const isSymmetric = (alg: string) => (SYMMETRIC_ALGORITHMS as readonly string[]).includes(alg);

function resolveKey(
  jwks: unknown,
  algorithms: readonly string[],
  algorithmsGiven: boolean,
  remote: Parameters<typeof remoteKeySet>[1],
): VerificationKey {
  const shape =
    'jwks must be the URL of the provider\'s JWK Set (its jwks_uri), a JWK Set {"keys": [...]}, a public JWK, ' +
    'a CryptoKey or KeyObject, a Uint8Array secret (HS* only), or a key resolver function';
  if (jwks instanceof Uint8Array) {
    if (!algorithmsGiven || !algorithms.every(isSymmetric))
      fail('a shared secret (Uint8Array) as jwks needs algorithms naming HS256, HS384 or HS512 only');
    if (jwks.byteLength < 32) fail('a shared secret as jwks must be at least 32 bytes');
    return jwks;
  }
  if (algorithms.some(isSymmetric))
    fail('HS256, HS384 and HS512 verify with a shared secret: pass it as jwks (a Uint8Array)');
  if (typeof jwks === 'string' || jwks instanceof URL) {
    const href = typeof jwks === 'string' ? jwks : jwks.href;
    return remoteKeySet(secureUrl(href, 'jwks', 'https://login.example.com/.well-known/jwks.json'), remote);
  }
  if (typeof jwks === 'function') return jwks as JWTVerifyGetKey;
  if (typeof jwks !== 'object' || jwks === null) fail(shape);
  if (typeof CryptoKey !== 'undefined' && jwks instanceof CryptoKey) {
    if (jwks.type !== 'public') fail(`jwks is a ${jwks.type} CryptoKey: pass the provider's public key`);
    return jwks;
  }
  if ('keys' in jwks) {
    const { keys } = jwks;
    if (!Array.isArray(keys) || keys.length === 0) fail('jwks.keys must be a non-empty array of public JWKs');
    keys.forEach((key: unknown, index) => assertPublicJwk(key, `jwks.keys[${index}]`));
    try {
      return localKeySet(jwks as JSONWebKeySet);
    } catch (error) {
      fail(`jwks is not a usable JWK Set: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if ('kty' in jwks) {
    assertPublicJwk(jwks, 'jwks');
    return jwks as JWK;
  }
  // A Node KeyObject (jose's KeyObject type is structural: `{type}`).
  if ('asymmetricKeyType' in jwks && 'type' in jwks) {
    if (jwks.type !== 'public') fail(`jwks is a ${String(jwks.type)} KeyObject: pass the provider's public key`);
    return jwks as KeyObject;
  }
  fail(shape);
}

function assertPublicJwk(key: unknown, name: string): void {
  if (typeof key !== 'object' || key === null || typeof (key as { kty?: unknown }).kty !== 'string')
    fail(`${name} is not a JWK (it has no kty)`);
  if ((key as { kty: string }).kty === 'oct')
    fail(`${name} is a symmetric key (kty "oct"): the provider's JWK Set holds public keys`);
  if ('d' in key || 'priv' in key) fail(`${name} is a private key: configure the provider's public key only`);
}
