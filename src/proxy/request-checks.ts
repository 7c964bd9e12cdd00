/**
 * What the proxy checks about a request before it asks the vendor anything:
 * which route it names, and whether it comes from the guard in one of the
 * site's own pages. There is no CORS support by design: a page on another
 * origin cannot send the guard header without a preflight, which the proxy
 * refuses.
 */
import { GUARD_HEADER } from '../konpro-api.js';
import { ProxyErrorCode } from './errors.js';

export type Route =
  | { kind: 'collection'; methods: readonly string[] }
  | { kind: 'events'; methods: readonly string[] }
  | { kind: 'session'; methods: readonly string[]; rawId: string };

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
