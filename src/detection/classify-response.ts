/**
 * What an HTTP response says about a widget session. Pure: no DOM, no I/O,
 * so every rule is tested exhaustively and the element, the status checks
 * and the delete outbox all read responses the same way.
 *
 * The rules are the contract's guarantee 5: only a response that says the
 * session is gone ends it; 429, 5xx, network errors and bodies we cannot
 * read never do.
 */
import { isErrorBody, isRecord, isSessionStatusBody } from '../shared/konpro-api.js';
import { isValidSessionId } from '../shared/session-id.js';

export const Verdict = {
  /** The session is gone for good. */
  Ended: 'ended',
  /** The session is alive (a status body saying `active`). */
  Alive: 'alive',
  /** Try again later: rate limited, server trouble, no network. */
  Transient: 'transient',
  /** Nothing to conclude about the session. */
  Unknown: 'unknown',
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export interface Classification {
  verdict: Verdict;
  /** The session the body names (`session_id`, or `error.details.session_id`), if any. */
  sessionId?: string;
  /** `expires_at` of a status body, if it has one. */
  expiresAt?: string;
}

/** An error code about the session or its token, as opposed to the API key or the request. */
export function codeNamesSession(code: string): boolean {
  const upper = code.toUpperCase();
  const words = upper.split(/[^A-Z0-9]+/);
  return !upper.includes('API_KEY') && (words.includes('SESSION') || words.includes('TOKEN'));
}

/**
 * @param status HTTP status, or 0 for a network error or time-out.
 * @param body the parsed JSON body, `undefined` when it was not read, or `MALFORMED` (shared/json-body).
 */
export function classifyResponse(status: number, body?: unknown): Classification {
  const named = namedSessionId(body);
  const result = (verdict: Verdict): Classification => (named ? { verdict, sessionId: named } : { verdict });

  if (status === 404 || status === 410) return result(Verdict.Ended);
  if (status === 401 || status === 403) {
    return result(isErrorBody(body) && codeNamesSession(body.error.code) ? Verdict.Ended : Verdict.Unknown);
  }
  if (status === 0 || status === 408 || status === 425 || status === 429 || status >= 500) {
    return result(Verdict.Transient);
  }
  if (status >= 200 && status < 300 && isSessionStatusBody(body)) {
    const classification = result(body.status === 'active' ? Verdict.Alive : Verdict.Ended);
    if (typeof body.expires_at === 'string') classification.expiresAt = body.expires_at;
    return classification;
  }
  return result(Verdict.Unknown);
}

function namedSessionId(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  if (isValidSessionId(body.session_id)) return body.session_id;
  if (isErrorBody(body) && isRecord(body.error.details) && isValidSessionId(body.error.details.session_id)) {
    return body.error.details.session_id;
  }
  return undefined;
}

/**
 * The session a request URL names, if any: the segment right after one of
 * the given collection URLs (`{proxy}/{id}`), the segment after a `sessions`
 * segment (`/v1/widget/sessions/{id}`), or a `session_id` query parameter.
 */
export function sessionIdInUrl(url: URL, collections: readonly URL[] = []): string | undefined {
  const segments = url.pathname.split('/');
  for (const collection of collections) {
    if (collection.origin !== url.origin) continue;
    const prefix = collection.pathname.replace(/\/+$/, '').split('/');
    if (segments.length > prefix.length && prefix.every((segment, i) => segments[i] === segment)) {
      const candidate = decodeSegment(segments[prefix.length] ?? '');
      return isValidSessionId(candidate) ? candidate : undefined;
    }
  }
  const index = segments.lastIndexOf('sessions');
  if (index >= 0 && index + 1 < segments.length) {
    const candidate = decodeSegment(segments[index + 1] ?? '');
    if (isValidSessionId(candidate)) return candidate;
  }
  const query = url.searchParams.get('session_id');
  return isValidSessionId(query) ? query : undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Whether a prefix covers a URL. A prefix that ends in `/` covers everything
 * below it; one that does not covers itself and what follows after `/`, `?`
 * or `#` (so `/api/widget-sessions` does not cover `/api/widget-sessions-old`).
 */
export function urlHasPrefix(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false;
  if (prefix.endsWith('/') || url.length === prefix.length) return true;
  const next = url.charAt(prefix.length);
  return next === '/' || next === '?' || next === '#';
}
