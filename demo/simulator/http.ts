/**
 * The wire format of the simulated Konpro API: request ids, JSON answers and
 * the vendor error schema. Every module of the simulator answers through
 * these helpers, so a status always goes with the same error code and every
 * answer carries the same headers.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson, type Headers } from '../http.js';
import type { ErrorBody } from './schema.js';

// The demo's HTTP plumbing (demo/http.ts), for the simulator's modules.
export {
  BodyError,
  decodeSegment,
  discardBody,
  readBody,
  readJsonBody,
  sendJson,
  sleep,
  splitUrl,
  type Headers,
} from '../http.js';

/** Error codes the simulator answers with, and the HTTP status each one always has. */
export const ERROR_STATUS = {
  // Documented vendor codes (contract: "The vendor API it guards").
  VALIDATION_ERROR: 400,
  INVALID_REQUEST: 400,
  INVALID_API_KEY: 401,
  INSUFFICIENT_PERMISSIONS: 403,
  RESOURCE_NOT_FOUND: 404,
  RATE_LIMIT_EXCEEDED: 429,
  PROCESSING_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  // The widget runtime's own codes: they name the session or its token, which
  // is what tells a guard "this session is gone" rather than "bad API key".
  SESSION_TERMINATED: 401,
  SESSION_EXPIRED: 401,
  INVALID_SESSION_TOKEN: 401,
  // Console only: the console's server-side call to the vendor API failed.
  UPSTREAM_UNREACHABLE: 502,
} as const;
export type SimulatorErrorCode = keyof typeof ERROR_STATUS;

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` random characters of `A-Z a-z 0-9`, uniformly distributed. */
export function randomToken(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 * 62: bytes above it would bias the first characters.
      if (byte < 248 && out.length < length) out += BASE62.charAt(byte % 62);
    }
  }
  return out;
}

export function newRequestId(): string {
  return `req_${randomToken(24)}`;
}

export interface ErrorOptions {
  details?: unknown;
  headers?: Headers;
  requestId?: string;
}

/** Answers `{"error":{"code","message","details"?},"request_id"}` with the code's status and an `x-request-id` header. */
export function sendError(
  res: ServerResponse,
  code: SimulatorErrorCode,
  message: string,
  options: ErrorOptions = {},
): void {
  const requestId = options.requestId ?? newRequestId();
  const error: ErrorBody['error'] =
    options.details === undefined ? { code, message } : { code, message, details: options.details };
  const body: ErrorBody = { error, request_id: requestId };
  sendJson(res, ERROR_STATUS[code], body, { ...options.headers, 'x-request-id': requestId });
}
