/**
 * The guard's requests to the site's backend proxy, and what their answers
 * mean. Every request carries the guard header and same-origin credentials;
 * none follows a redirect; each has a time limit.
 */
import { classifyResponse, Verdict } from '../detection/classify-response.js';
import { isJsonType, MALFORMED, parseJson } from '../shared/json-body.js';
import { GUARD_HEADER, isCreatedSessionBody, isRecord } from '../shared/konpro-api.js';
import { parseRetryAfter } from '../shared/backoff.js';
import { isValidSessionId } from '../shared/session-id.js';
import { unwatchedFetch } from '../detection/response-watch.js';

export interface ProxyAnswer {
  /** HTTP status; 0 when there was no answer (offline, time-out, refused redirect). */
  status: number;
  /** Parsed JSON body; `undefined` when empty or not JSON, {@link MALFORMED} when unreadable. */
  body: unknown;
  retryAfterMs?: number;
  /**
   * No answer, and the request may still be at the server: it timed out (an abort does not reach a
   * keepalive request there), or the connection failed while the browser was online (the server may
   * be working on it still). Not set when the browser was offline as it was sent.
   */
  perhapsOut?: true;
}

export interface ProxyRequestOptions {
  timeoutMs?: number;
  keepalive?: boolean;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export async function callProxy(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  options: ProxyRequestOptions = {},
  fetchImpl: typeof fetch = unwatchedFetch(),
): Promise<ProxyAnswer> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = options.signal ? anySignal(timeout, options.signal) : timeout;
  const online = typeof navigator === 'undefined' || navigator.onLine !== false;
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method,
      headers: { [GUARD_HEADER]: '1', Accept: 'application/json' },
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
      keepalive: options.keepalive ?? false,
      signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return timeout.aborted || online
      ? { status: 0, body: undefined, perhapsOut: true }
      : { status: 0, body: undefined };
  }
  let body: unknown;
  try {
    const text = await response.text();
    body = text !== '' && isJsonType(response.headers.get('content-type')) ? parseJson(text) : undefined;
  } catch {
    body = MALFORMED;
  }
  return { status: response.status, body, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
}

/** Aborts when either aborts (AbortSignal.any is missing before Safari 17.4 and Firefox 124). */
function anySignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b]);
  const controller = new AbortController();
  const abort = () => controller.abort();
  for (const signal of [a, b]) {
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true, signal: controller.signal });
  }
  return controller.signal;
}

export type DeleteVerdict = 'deleted' | 'already-gone' | 'retry' | 'failed';

/**
 * What a proxy's answer to `DELETE {proxy}/{id}` means for the outbox.
 * 2xx: done (`already_terminated: true` says the vendor had ended it before).
 * Gone (404/410, or a 401/403 naming the session): done, already gone.
 * 429, 5xx, no answer: try again later. Any other 4xx (400, 401, 403 about
 * the user or the request): retrying cannot help, so it fails.
 */
export function classifyDeleteAnswer(answer: Pick<ProxyAnswer, 'status' | 'body'>): DeleteVerdict {
  const { status, body } = answer;
  if (status >= 200 && status < 300) {
    return isRecord(body) && body.already_terminated === true ? 'already-gone' : 'deleted';
  }
  const verdict = classifyResponse(status, body).verdict;
  if (verdict === Verdict.Ended) return 'already-gone';
  if (verdict === Verdict.Transient) return 'retry';
  return 'failed';
}

export interface CreatedSession {
  sessionId: string;
  widgetUrl: string;
  expiresAt: string;
}

export class StartError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'StartError';
  }
}

/** `POST {proxy}`: a new session for the signed-in user. Throws {@link StartError}. */
export async function createSession(proxy: string, options: ProxyRequestOptions = {}): Promise<CreatedSession> {
  const answer = await callProxy('POST', proxy, options);
  if (answer.status !== 201 && answer.status !== 200) {
    const detail = isRecord(answer.body) && isRecord(answer.body.error) ? `: ${String(answer.body.error.message)}` : '';
    throw new StartError(
      answer.status === 0 ? 'the proxy did not answer' : `the proxy answered ${answer.status}${detail}`,
      answer.status,
    );
  }
  if (!isCreatedSessionBody(answer.body) || !isValidSessionId(answer.body.session_id)) {
    throw new StartError('the proxy answered without a valid {session_id, widget_url, expires_at}', answer.status);
  }
  return { sessionId: answer.body.session_id, widgetUrl: answer.body.widget_url, expiresAt: answer.body.expires_at };
}
