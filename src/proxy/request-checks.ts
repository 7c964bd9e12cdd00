/**
 * What the proxy checks about a request before it asks the vendor anything:
 * which route it names, and whether it comes from the guard in one of the
 * site's own pages. There is no CORS support by design: a page on another
 * origin cannot send the guard header without a preflight, which the proxy
 * refuses.
 */
import { GUARD_HEADER } from '../shared/konpro-api.js';
import { AuthorizeFailure, ProxyErrorCode } from './errors.js';
import type { WidgetSessionProxyOptions } from './options.js';

export type Route =
  | { kind: 'collection'; methods: readonly string[] }
  | { kind: 'events'; methods: readonly string[] }
  | { kind: 'session'; methods: readonly string[]; rawId: string };

/**
 * Request targets as the client sent them, for requests an adapter built
 * (`toFetchRequest`): a `Request`'s own URL is already normalised, so the
 * dot segments and backslashes a filter in front of the proxy saw are gone
 * from it.
 */
const rawTargets = new WeakMap<Request, string>();

/** Remembers the path of the request target `request` was built from, before any normalising. */
export function rememberRawPath(request: Request, rawPath: string): void {
  rawTargets.set(request, rawPath);
}

/**
 * Whether the request's path, as the client sent it, means one thing to a
 * filter in front of the proxy (a WAF rule, an audit log, path-scoped
 * middleware) and another once normalised: a `.` or `..` segment (also
 * percent-encoded), a backslash, an encoded slash or backslash, or a control
 * character. The proxy answers such a target `400` instead of routing it.
 */
export function hasAmbiguousPath(request: Request): boolean {
  const path = rawTargets.get(request);
  return path !== undefined && isAmbiguousPath(path);
}

const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
// eslint-disable-next-line no-control-regex -- control characters are what is looked for
const AMBIGUOUS_CHARACTERS = /[\\\u0000-\u001f\u007f]|%2f|%5c/i;

export function isAmbiguousPath(path: string): boolean {
  return AMBIGUOUS_CHARACTERS.test(path) || path.split('/').some((segment) => DOT_SEGMENT.test(segment));
}

/** The last segment of the event-stream route, `{basePath}/events` (so no session can be named `events`). */
export const EVENTS_SEGMENT = 'events';

/** The route `pathname` names under `basePath`; everything else below it is a session id, valid or not. */
export function matchRoute(pathname: string, basePath: string): Route | undefined {
  if (pathname === basePath || pathname === `${basePath}/`) return { kind: 'collection', methods: ['POST'] };
  if (pathname === `${basePath}/${EVENTS_SEGMENT}`) return { kind: 'events', methods: ['GET'] };
  if (pathname.startsWith(`${basePath}/`))
    return { kind: 'session', methods: ['GET', 'DELETE'], rawId: pathname.slice(basePath.length + 1) };
  return undefined;
}

export interface Refusal {
  status: number;
  code: string;
  message: string;
}

/** Why a request did not come from the guard in one of the site's pages, if it did not. */
export function refuseForeignRequest(request: Request, allowedOrigins: ReadonlySet<string>): Refusal | undefined {
  if (request.headers.get(GUARD_HEADER) !== '1') {
    return {
      status: 403,
      code: ProxyErrorCode.GuardHeaderRequired,
      message: `Requests must carry the header ${GUARD_HEADER}: 1.`,
    };
  }
  return refuseCrossSite(request, allowedOrigins);
}

/**
 * Why a request did not come from one of the site's own pages, if it did
 * not: an `Origin` that is not exactly an allowed one, or a `Sec-Fetch-Site`
 * other than `same-origin`. A request with neither header (an old browser,
 * or no browser, so no victim's cookies) passes. The proxy's routes and the
 * site's logout route (`proxy.isSameOrigin`) use this one check.
 */
export function refuseCrossSite(request: Request, allowedOrigins: ReadonlySet<string>): Refusal | undefined {
  // Exact string match: a look-alike host, another scheme or port, or "null" is another origin.
  const origin = request.headers.get('origin');
  if (origin !== null && !allowedOrigins.has(origin)) {
    return {
      status: 403,
      code: ProxyErrorCode.CrossSiteRequestRefused,
      message: 'The request comes from an origin that is not allowed.',
    };
  }
  const site = request.headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin') {
    return {
      status: 403,
      code: ProxyErrorCode.CrossSiteRequestRefused,
      message: 'Only same-origin requests are accepted.',
    };
  }
  return undefined;
}

/** The signed-in user by the site's `authorize`; whatever it throws becomes an {@link AuthorizeFailure}. */
export async function authorizeRequest(
  authorize: WidgetSessionProxyOptions['authorize'],
  request: Request,
): Promise<string | null | undefined> {
  try {
    return await authorize(request);
  } catch (thrown) {
    throw new AuthorizeFailure(thrown);
  }
}

/**
 * Whether a URL host (`URL.hostname`) is this machine: `localhost`, `127.0.0.0/8` or `[::1]`.
 * Not `*.localhost`, which a server's resolver may send anywhere.
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Whether the browser is on plain `http:` on this machine (a development
 * server, the demo): the request URL is `http:` on a loopback host, and so
 * is its `Origin` when it has one. Behind a TLS-terminating proxy the request
 * URL is `http:` too, often on loopback (`proxy_pass http://127.0.0.1:3000`),
 * but the page's `Origin` is `https:`.
 */
export function isPlainLoopback(request: Request): boolean {
  const url = new URL(request.url);
  if (url.protocol !== 'http:' || !isLoopbackHost(url.hostname)) return false;
  const origin = request.headers.get('origin');
  if (origin === null) return true;
  if (!URL.canParse(origin)) return false;
  const page = new URL(origin);
  return page.protocol === 'http:' && isLoopbackHost(page.hostname);
}
