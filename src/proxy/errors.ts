/**
 * Every answer of the proxy: JSON, never cached, and errors in the vendor's
 * schema `{error: {code, message, details?}, request_id}` so the browser
 * reads proxy and vendor errors alike.
 */
import type { ErrorBody, ErrorCode } from '../shared/konpro-api.js';

/**
 * Codes of errors the proxy makes itself. None of its 401/403 codes contains
 * the word SESSION or TOKEN: the guard reads such a 401/403 as "the session
 * has ended" (see `codeNamesSession`), and a refused request has not ended one.
 */
export const ProxyErrorCode = {
  AuthenticationRequired: 'AUTHENTICATION_REQUIRED',
  InsufficientPermissions: 'INSUFFICIENT_PERMISSIONS',
  CrossSiteRequestRefused: 'CROSS_SITE_REQUEST_REFUSED',
  GuardHeaderRequired: 'GUARD_HEADER_REQUIRED',
  ValidationError: 'VALIDATION_ERROR',
  MethodNotAllowed: 'METHOD_NOT_ALLOWED',
  NotAcceptable: 'NOT_ACCEPTABLE',
  NotFound: 'RESOURCE_NOT_FOUND',
  RateLimitExceeded: 'RATE_LIMIT_EXCEEDED',
  /** `maxLiveSessions`: the site holds as many live sessions as it allows; a 429, with `Retry-After`. */
  CapacityReached: 'CAPACITY_REACHED',
  UpstreamApiKeyRejected: 'UPSTREAM_API_KEY_REJECTED',
  UpstreamBadResponse: 'UPSTREAM_BAD_RESPONSE',
  UpstreamTimeout: 'UPSTREAM_TIMEOUT',
  ServiceUnavailable: 'SERVICE_UNAVAILABLE',
  InternalError: 'INTERNAL_ERROR',
} as const satisfies Record<string, ErrorCode>;

/**
 * The message the browser gets for a vendor error, fixed per code: the
 * vendor's own `message` and `details` can echo part of the key or name
 * internal accounts, so they go to the server log only.
 */
const VENDOR_MESSAGES: Readonly<Record<string, string>> = {
  VALIDATION_ERROR: 'The Konpro API refused the request as invalid.',
  INVALID_REQUEST: 'The Konpro API refused the request.',
  INSUFFICIENT_PERMISSIONS: "The Konpro API does not allow this for the site's account.",
  RESOURCE_NOT_FOUND: 'The Konpro API has no such session.',
  RATE_LIMIT_EXCEEDED: 'The Konpro API is rate limiting this site; try again later.',
  PROCESSING_ERROR: 'The Konpro API failed to process the request; try again later.',
  SERVICE_UNAVAILABLE: 'The Konpro API is unavailable; try again later.',
};

/** The fixed message for a vendor error `code` (one for each undocumented code, by status). */
export function vendorErrorMessage(code: string, status: number): string {
  return (
    VENDOR_MESSAGES[code] ??
    (status >= 500 ? 'The Konpro API failed; try again later.' : `The Konpro API refused the request (${status}).`)
  );
}

/** A documented code for a vendor error whose own code is not one (not an upper-case identifier). */
export function vendorCodeForStatus(status: number): ErrorCode {
  if (status === 403) return 'INSUFFICIENT_PERMISSIONS';
  if (status === 404) return 'RESOURCE_NOT_FOUND';
  if (status === 429) return 'RATE_LIMIT_EXCEEDED';
  if (status === 503) return 'SERVICE_UNAVAILABLE';
  return status >= 500 ? 'PROCESSING_ERROR' : 'INVALID_REQUEST';
}

const BASE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function newRequestId(): string {
  return globalThis.crypto.randomUUID();
}

/** The bytes of each JSON answer the proxy made, so an adapter can send them without reading the body back. */
const payloads = new WeakMap<Response, Uint8Array>();
const encoder = new TextEncoder();

export function jsonResponse(status: number, body: unknown, headers?: HeadersInit): Response {
  const all = new Headers(headers);
  for (const [name, value] of Object.entries(BASE_HEADERS)) all.set(name, value);
  const payload = encoder.encode(JSON.stringify(body));
  const response = new Response(payload, { status, headers: all });
  payloads.set(response, payload);
  return response;
}

/** The body of a Response `jsonResponse` made (and nobody has read), else `undefined`. */
export function jsonPayloadOf(response: Response): Uint8Array | undefined {
  return response.bodyUsed ? undefined : payloads.get(response);
}

export function errorBody(code: ErrorCode, message: string, requestId = newRequestId(), details?: unknown): ErrorBody {
  const error: ErrorBody['error'] = details === undefined ? { code, message } : { code, message, details };
  return { error, request_id: requestId };
}

const CLASS_NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

/** What kind of thing was thrown, for a log line that must not carry its message: a class name, or the type. */
export function errorClassOf(thrown: unknown): string {
  if (thrown instanceof Error) {
    const name: unknown = thrown.constructor?.name;
    return typeof name === 'string' && CLASS_NAME.test(name) ? name : 'Error';
  }
  return thrown === null ? 'null' : typeof thrown;
}

/**
 * `authorize(request)` threw or rejected. Carries only the class of what was
 * thrown: its message is the site's (a failed lookup names the user, a
 * token, a connection string) and stays out of the proxy's log.
 */
export class AuthorizeFailure extends Error {
  readonly code = 'AUTHORIZE_FAILED';
  readonly errorClass: string;

  constructor(thrown: unknown) {
    super('authorize(request) failed');
    this.name = 'AuthorizeFailure';
    this.errorClass = errorClassOf(thrown);
  }
}
