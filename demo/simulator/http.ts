/**
 * The wire format of the simulated Konpro API: request ids, JSON answers and
 * the vendor error schema. Every module of the simulator answers through
 * these helpers, so a status always goes with the same error code and every
 * answer carries the same headers.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorBody } from '../../src/shared/konpro-api.js';

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

export type Headers = Record<string, string | number>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
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

/** Why a request body could not be read as JSON. */
export class BodyError extends Error {
  constructor(
    readonly reason: 'too-large' | 'malformed',
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

export const MAX_BODY_BYTES = 64 * 1024;

/** The raw body, refused past `limit` bytes (the rest is drained, so the connection stays usable). */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) tooLarge = true;
    else chunks.push(chunk);
  }
  if (tooLarge) throw new BodyError('too-large', `Request body exceeds ${limit} bytes`);
  return Buffer.concat(chunks);
}

/** The body parsed as JSON; an empty body is `undefined`. */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const text = (await readBody(req, limit)).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BodyError('malformed', 'Request body is not valid JSON');
  }
}

/** Drains a body the route does not use (DELETE with `Content-Type: application/json`, as the docs send it). */
export async function discardBody(req: IncomingMessage): Promise<void> {
  for await (const _chunk of req as AsyncIterable<Buffer>) {
    // Nothing to keep: reading is what lets the next request on this connection through.
  }
}

/** The path of a request URL, undecoded, and its query. Never resolves `//host` forms as URLs do. */
export function splitUrl(url: string | undefined): { path: string; query: URLSearchParams } {
  const raw = url ?? '/';
  const at = raw.indexOf('?');
  return at < 0
    ? { path: raw, query: new URLSearchParams() }
    : { path: raw.slice(0, at), query: new URLSearchParams(raw.slice(at + 1)) };
}

/** One path segment, percent-decoded; `undefined` when the escape is malformed. */
export function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
