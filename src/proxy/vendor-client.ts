/**
 * Calls to the Konpro widget-session API, and what their answers mean for
 * the proxy. Every call has a deadline that covers the body too, never
 * follows a redirect, and accepts only the documented JSON; anything else
 * becomes an error in the vendor's schema with the status the proxy answers.
 */
import { parseRetryAfter } from '../shared/backoff.js';
import { MALFORMED, MAX_BODY_BYTES, parseJson } from '../shared/json-body.js';
import { isErrorBody, isRecord, type DeletedSession, type ErrorBody } from '../shared/konpro-api.js';
import { isValidSessionId, sessionResourceUrl } from '../shared/session-id.js';
import { errorBody, ProxyErrorCode, vendorCodeForStatus, vendorErrorMessage } from './errors.js';
import { redactSecrets } from './log.js';
import type { ResolvedOptions, SessionSettings, VendorSessionAnswer } from './options.js';
import { vendorTransport, type TransportAnswer, type VendorTransport } from './vendor-transport.js';

export type VendorFailureReason =
  | 'not-found'
  | 'rejected'
  | 'rate-limited'
  | 'error'
  | 'key-refused'
  | 'malformed'
  | 'redirect'
  | 'timeout'
  | 'unreachable';

export interface VendorFailure {
  ok: false;
  reason: VendorFailureReason;
  /** The status the proxy answers. */
  status: number;
  body: ErrorBody;
  /** The vendor's `Retry-After`, kept when the proxy answers the vendor's 429 or 5xx. */
  retryAfter?: string;
  /** The vendor's own words (code, message, details), the API key taken out: for the server log, never an answer. */
  vendorText?: string;
}

export type VendorResult<T> = { ok: true; value: T } | VendorFailure;

export class VendorClient {
  readonly #config: Pick<ResolvedOptions, 'apiKey' | 'collectionUrl' | 'timeoutMs'>;
  readonly #send: VendorTransport;

  constructor(config: Pick<ResolvedOptions, 'apiKey' | 'collectionUrl' | 'timeoutMs' | 'fetch'>) {
    this.#config = config;
    this.#send = vendorTransport(config.fetch);
  }

  createSession(agenticAvatarId: string, settings: SessionSettings): Promise<VendorResult<VendorSessionAnswer>> {
    const body = JSON.stringify({ agentic_avatar_id: agenticAvatarId, settings });
    return this.#call('POST', this.#config.collectionUrl, body, (value) =>
      isSessionAnswer(value) ? value : undefined,
    );
  }

  readSession(sessionId: string): Promise<VendorResult<VendorSessionAnswer>> {
    return this.#call('GET', sessionResourceUrl(this.#config.collectionUrl, sessionId), undefined, (value) =>
      isSessionAnswer(value) && value.session_id === sessionId ? value : undefined,
    );
  }

  endSession(sessionId: string): Promise<VendorResult<DeletedSession>> {
    return this.#call('DELETE', sessionResourceUrl(this.#config.collectionUrl, sessionId), undefined, (value) =>
      isRecord(value) && typeof value.message === 'string' && value.session_id === sessionId
        ? { message: value.message, session_id: sessionId }
        : undefined,
    );
  }

  async #call<T>(
    method: string,
    url: string,
    body: string | undefined,
    accept: (value: unknown) => T | undefined,
  ): Promise<VendorResult<T>> {
    const { apiKey, timeoutMs } = this.#config;
    const headers: Record<string, string> = { accept: 'application/json', 'x-api-key': apiKey };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const sent = this.#send({ method, url, headers, body });
    let timedOut = false;
    // One deadline for headers and body: a vendor that stalls mid-body is as stuck as one that never answers.
    const timer = setTimeout(() => {
      timedOut = true;
      sent.abort();
    }, timeoutMs);
    try {
      let response: TransportAnswer;
      try {
        response = await sent.answer;
      } catch {
        return timedOut
          ? this.#timeout()
          : failure('unreachable', 503, ProxyErrorCode.ServiceUnavailable, 'The Konpro API could not be reached.');
      }
      if (response.redirect) {
        response.discard();
        return failure(
          'redirect',
          502,
          ProxyErrorCode.UpstreamBadResponse,
          'The Konpro API answered with a redirect, which the proxy does not follow.',
        );
      }
      let parsed: unknown;
      try {
        const text = await response.text(MAX_BODY_BYTES);
        parsed = text === undefined ? MALFORMED : parseJson(text);
        // Without a backslash every string JSON.parse makes is a verbatim slice of the text: a text
        // that does not contain the key cannot hold it (the walk below is for the rare one that may).
        if (text !== undefined && (text.includes(apiKey) || text.includes('\\'))) parsed = redact(parsed, apiKey);
      } catch {
        if (timedOut) return this.#timeout();
        parsed = MALFORMED;
      }
      return interpret(response, parsed, accept, apiKey);
    } finally {
      clearTimeout(timer);
    }
  }

  #timeout(): VendorFailure {
    return failure(
      'timeout',
      504,
      ProxyErrorCode.UpstreamTimeout,
      `The Konpro API did not answer within ${this.#config.timeoutMs} ms.`,
    );
  }
}

function interpret<T>(
  response: TransportAnswer,
  parsed: unknown,
  accept: (value: unknown) => T | undefined,
  apiKey: string,
): VendorResult<T> {
  const { status } = response;
  const vendorError = isErrorBody(parsed) ? keepErrorBody(parsed, status) : undefined;
  const requestId = vendorError?.request_id;
  const vendorText = isErrorBody(parsed) ? describeVendorError(parsed, apiKey) : undefined;
  const result = interpretStatus(response, parsed, accept, vendorError, requestId);
  return result.ok || vendorText === undefined ? result : { ...result, vendorText };
}

function interpretStatus<T>(
  response: TransportAnswer,
  parsed: unknown,
  accept: (value: unknown) => T | undefined,
  vendorError: ErrorBody | undefined,
  requestId: string | undefined,
): VendorResult<T> {
  const { status } = response;
  if (status >= 200 && status < 300) {
    const value = parsed === MALFORMED ? undefined : accept(parsed);
    if (value !== undefined) return { ok: true, value };
  } else if (status === 401) {
    // The documented 401 is INVALID_API_KEY: the server is misconfigured, which is never the user's success.
    return failure(
      'key-refused',
      502,
      ProxyErrorCode.UpstreamApiKeyRejected,
      "The Konpro API refused this server's API key; check the proxy's apiKey option.",
      requestId,
    );
  } else if (status === 429) {
    const body =
      vendorError ?? errorBody(ProxyErrorCode.RateLimitExceeded, 'The Konpro API is rate limiting this server.');
    return withRetryAfter({ ok: false, reason: 'rate-limited', status, body }, response);
  } else if (vendorError && status === 404) {
    return { ok: false, reason: 'not-found', status, body: vendorError };
  } else if (vendorError && status >= 500 && status < 600) {
    return withRetryAfter({ ok: false, reason: 'error', status, body: vendorError }, response);
  } else if (vendorError && status >= 400 && status < 500) {
    return { ok: false, reason: 'rejected', status, body: vendorError };
  }
  return failure(
    'malformed',
    502,
    ProxyErrorCode.UpstreamBadResponse,
    `The Konpro API answered ${status} with a body that is not the documented JSON.`,
    requestId,
  );
}

function failure(
  reason: VendorFailureReason,
  status: number,
  code: string,
  message: string,
  requestId?: string,
): VendorFailure {
  return { ok: false, reason, status, body: errorBody(code, message, requestId) };
}

function withRetryAfter(result: VendorFailure, response: TransportAnswer): VendorFailure {
  const retryAfter = response.header('retry-after');
  return retryAfter !== null && parseRetryAfter(retryAfter) !== undefined
    ? { ...result, retryAfter: retryAfter.trim() }
    : result;
}

const VENDOR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const VENDOR_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** How much of the vendor's text a log line keeps. */
const MAX_VENDOR_TEXT = 1000;

/**
 * The vendor's error as the browser may see it: the code (the guard reads
 * codes that name the session), a fixed message for it, the session it
 * names, and the request id. Nothing else of the vendor's text: it can echo
 * part of the key or name internal accounts.
 */
function keepErrorBody(body: ErrorBody, status: number): ErrorBody {
  const code = VENDOR_CODE.test(body.error.code) ? body.error.code : vendorCodeForStatus(status);
  const requestId =
    typeof body.request_id === 'string' && VENDOR_REQUEST_ID.test(body.request_id) ? body.request_id : undefined;
  const { details } = body.error;
  const sessionId = isRecord(details) && isValidSessionId(details.session_id) ? details.session_id : undefined;
  return errorBody(
    code,
    vendorErrorMessage(code, status),
    requestId,
    sessionId === undefined ? undefined : { session_id: sessionId },
  );
}

/** The vendor's words for the server log: `CODE: message {details}`, capped, the API key out even in part. */
function describeVendorError(body: ErrorBody, apiKey: string): string {
  const details = body.error.details === undefined ? '' : ` ${JSON.stringify(body.error.details)}`;
  const text = `${body.error.code}: ${body.error.message}${details}`;
  return redactSecrets(text.length > MAX_VENDOR_TEXT ? `${text.slice(0, MAX_VENDOR_TEXT)}…` : text, [apiKey]);
}

function isSessionAnswer(value: unknown): value is VendorSessionAnswer {
  if (!isRecord(value) || !isValidSessionId(value.session_id) || typeof value.status !== 'string') return false;
  const { expires_at: expiresAt, agentic_avatar_id: avatarId, created_at: createdAt } = value;
  return (
    typeof expiresAt === 'string' &&
    !Number.isNaN(Date.parse(expiresAt)) &&
    (avatarId === undefined || typeof avatarId === 'string') &&
    (createdAt === undefined || typeof createdAt === 'string')
  );
}

/** Removes the API key from every string of a vendor answer, in case one echoes it. */
function redact(value: unknown, secret: string): unknown {
  if (typeof value === 'string') return value.replaceAll(secret, '[redacted]');
  if (Array.isArray(value)) return value.map((item) => redact(item, secret));
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [redact(key, secret), redact(item, secret)]));
  }
  return value;
}
