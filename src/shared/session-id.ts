/**
 * Konpro widget session ids, as the guard and the proxy accept them.
 *
 * An id is 1–128 characters of `A-Z a-z 0-9 _ -`. Anything else is refused
 * before it can reach a URL, so an id can never add a path segment, a query
 * or a fragment to a request.
 */

const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function isValidSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID.test(value);
}

/** Why a value is not a session id, in words a site author can act on. */
export function describeInvalidSessionId(value: unknown): string {
  if (typeof value !== 'string') return `session id must be a string, got ${typeof value}`;
  if (value.length === 0) return 'session id is empty';
  if (value.length > 128) return `session id is ${value.length} characters long (at most 128)`;
  return 'session id may only contain A-Z, a-z, 0-9, "_" and "-"';
}

/**
 * The URL of one session under a collection URL: `{collection}/{id}`.
 * The collection keeps its query string; a trailing slash is not doubled.
 * Throws on an invalid id: callers validate first, so reaching here with one
 * is a programming error.
 */
export function sessionResourceUrl(collection: string | URL, sessionId: string, base?: string): string {
  if (!isValidSessionId(sessionId)) {
    throw new TypeError(`konpro-widget-guard: ${describeInvalidSessionId(sessionId)}`);
  }
  const url = new URL(collection, base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${sessionId}`;
  url.hash = '';
  return url.href;
}
