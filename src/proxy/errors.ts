/**
 * Every answer of the proxy: JSON, never cached, and errors in the vendor's
 * schema `{error: {code, message, details?}, request_id}` so the browser
 * reads proxy and vendor errors alike.
 */
import type { ErrorBody, ErrorCode } from '../konpro-api.js';

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
  UpstreamApiKeyRejected: 'UPSTREAM_API_KEY_REJECTED',
  UpstreamBadResponse: 'UPSTREAM_BAD_RESPONSE',
  UpstreamTimeout: 'UPSTREAM_TIMEOUT',
  ServiceUnavailable: 'SERVICE_UNAVAILABLE',
  InternalError: 'INTERNAL_ERROR',
} as const satisfies Record<string, ErrorCode>;

const BASE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function newRequestId(): string {
  return globalThis.crypto.randomUUID();
}

export function jsonResponse(status: number, body: unknown, headers?: HeadersInit): Response {
  const all = new Headers(headers);
  for (const [name, value] of Object.entries(BASE_HEADERS)) all.set(name, value);
  return new Response(JSON.stringify(body), { status, headers: all });
}

export function errorBody(code: ErrorCode, message: string, requestId = newRequestId(), details?: unknown): ErrorBody {
  const error: ErrorBody['error'] = details === undefined ? { code, message } : { code, message, details };
  return { error, request_id: requestId };
}
