/**
 * The reference backend proxy: a Fetch-API handler that creates, reads and
 * ends Konpro widget sessions for the signed-in user, holding the API key
 * server-side. Every check runs before the vendor is asked anything.
 */
import type {
  DeletedSession,
  ProxyCreatedSession,
  ProxyDeletedSession,
  ProxySessionStatus,
} from '../shared/konpro-api.js';
import { describeInvalidSessionId, isValidSessionId } from '../shared/session-id.js';
import { errorBody, jsonResponse, newRequestId, ProxyErrorCode } from './errors.js';
import {
  defaultLog,
  describeFailure,
  LogSampler,
  type LogLevel,
  type ProxyLogEntry,
  type ProxyLogEvent,
} from './log.js';
import { resolveOptions, type WidgetSessionProxyOptions } from './options.js';
import { RateLimiter, type RateLimitDecision } from './rate-limit.js';
import {
  authorizeRequest,
  hasAmbiguousPath,
  matchRoute,
  refuseCrossSite,
  refuseForeignRequest,
  type Route,
} from './request-checks.js';
import { SessionBindings } from './session-binding.js';
import { Signer } from './signing.js';
import { VendorClient, type VendorFailure } from './vendor-client.js';

/** What `endSessions` did: the sessions it ended and could not end, and the cookies to send back. */
export interface EndSessionsResult {
  /** Sessions the vendor ended now or had already ended. */
  ended: string[];
  /** Sessions the vendor could not end now; their bindings are kept so a later logout can retry. */
  failed: string[];
  /** `Set-Cookie` values that remove the bindings of ended (and unreadable) sessions. */
  setCookie: string[];
}

/** A Fetch-API handler with the proxy's routing and logout helper attached. */
export type WidgetSessionProxy = ((request: Request) => Promise<Response>) & {
  /** The path the proxy answers under, e.g. `/api/widget-sessions`. */
  readonly basePath: string;
  /** Whether a request (or URL, or path) is for the proxy: `basePath` or anything below it. */
  handles(request: Request | URL | string): boolean;
  /**
   * For the site's own logout route: ends every vendor session bound to the
   * request's cookies (no signed-in user needed) and returns the `Set-Cookie`
   * values that clear those bindings.
   */
  endSessions(request: Request): Promise<EndSessionsResult>;
  /**
   * The proxy's own cross-site check, for the site's logout route (and any
   * other state-changing route): `false` when the request's `Origin` is not
   * exactly one of `allowedOrigins` or its `Sec-Fetch-Site` is not
   * `same-origin`. Answer such a request `403` and end nothing. Make logout a
   * `POST`: browsers send `Origin` with every `POST`, and a `GET` can be
   * fired by any page (an image, a link).
   */
  isSameOrigin(request: Request): boolean;
};

interface LoggedIds {
  sessionId?: string;
  userId?: string;
}

/**
 * Creates the proxy. Checks every option at once and throws a `TypeError`
 * that says what to fix.
 */
export function createWidgetSessionProxy(options: WidgetSessionProxyOptions): WidgetSessionProxy {
  const config = resolveOptions(options);
  // The first secret signs bindings and log hashes; every one verifies bindings (a rotation).
  const signer = new Signer(config.secret);
  const previous = config.secrets.slice(1).map((secret) => new Signer(secret));
  const bindings = new SessionBindings([signer, ...previous], config.cookie);
  const vendor = new VendorClient(config);
  const createLimit = new RateLimiter(config.rateLimit.creates, config.rateLimit.windowMs);
  const deleteLimit = new RateLimiter(config.rateLimit.deletes, config.rateLimit.windowMs);
  // Anyone can provoke a refusal: their log lines are sampled, with a count of what was dropped.
  const refusalLog = new LogSampler();

  async function record(
    level: LogLevel,
    event: ProxyLogEvent,
    ids: LoggedIds,
    extra: Omit<ProxyLogEntry, 'level' | 'event'> = {},
  ): Promise<void> {
    // The default log drops debug and info lines: no hashes for a line nobody will read.
    if (config.log === defaultLog && (level === 'debug' || level === 'info')) return;
    const entry: ProxyLogEntry = { level, event, ...extra };
    if (ids.sessionId !== undefined) entry.sessionHash = await signer.tag('log-session', [ids.sessionId], 12);
    if (ids.userId !== undefined) entry.userHash = await signer.tag('log-user', [ids.userId], 12);
    try {
      config.log(entry);
    } catch {
      // A failing logger must not fail the request it reports on.
    }
  }

  async function refuse(
    status: number,
    code: string,
    message: string,
    ids: LoggedIds = {},
    headers?: HeadersInit,
  ): Promise<Response> {
    const body = errorBody(code, message);
    const event = status === 429 ? 'rate-limited' : 'request-refused';
    const dropped = refusalLog.admit(`${event} ${status} ${code}`);
    if (dropped !== undefined) {
      await record(status === 403 || status === 429 ? 'warn' : 'info', event, ids, {
        status,
        requestId: body.request_id,
        detail: code,
        ...(dropped > 0 ? { dropped } : {}),
      });
    }
    return jsonResponse(status, body, headers);
  }

  function rateLimited(decision: Exclude<RateLimitDecision, { allowed: true }>, userId: string): Promise<Response> {
    const seconds = decision.retryAfterSeconds;
    return refuse(
      429,
      ProxyErrorCode.RateLimitExceeded,
      `Too many requests; try again in ${seconds} s.`,
      { userId },
      { 'retry-after': String(seconds) },
    );
  }

  function recordFailure(failure: VendorFailure, ids: LoggedIds): Promise<void> {
    const level: LogLevel =
      failure.reason === 'not-found'
        ? 'info'
        : failure.reason === 'rejected' || failure.reason === 'rate-limited'
          ? 'warn'
          : 'error';
    return record(level, `vendor-${failure.reason}`, ids, {
      status: failure.status,
      requestId: failure.body.request_id,
      ...(failure.vendorText === undefined ? {} : { vendorText: failure.vendorText }),
    });
  }

  async function answerFailure(failure: VendorFailure, ids: LoggedIds): Promise<Response> {
    await recordFailure(failure, ids);
    return jsonResponse(
      failure.status,
      failure.body,
      failure.retryAfter === undefined ? undefined : { 'retry-after': failure.retryAfter },
    );
  }

  async function create(request: Request, userId: string): Promise<Response> {
    const decision = createLimit.take(userId);
    if (!decision.allowed) return rateLimited(decision, userId);
    // Before the vendor creates anything: a session that could not be bound would run unowned.
    const room = await bindings.makeRoom(request, (sessionId) => evict(sessionId, userId));
    if (room.failure) return answerFailure(room.failure, { userId });
    const result = await vendor.createSession(config.agenticAvatarId, config.sessionSettings);
    if (!result.ok)
      return answerFailure(result.reason === 'not-found' ? asConfigurationError(result) : result, { userId });
    const session = result.value;
    let widgetUrl: string;
    try {
      widgetUrl = config.widgetUrl(session);
      if (typeof widgetUrl !== 'string' || widgetUrl === '')
        throw new TypeError('widgetUrl(session) must return a non-empty string');
    } catch (error) {
      // Nobody could use or end this session: end it rather than leave it running.
      await vendor.endSession(session.session_id);
      throw error;
    }
    const setCookie = await bindings.issue(request, session.session_id, userId, Date.parse(session.expires_at));
    await record('info', 'session-created', { sessionId: session.session_id, userId }, { status: 201 });
    const body: ProxyCreatedSession = {
      session_id: session.session_id,
      widget_url: widgetUrl,
      expires_at: session.expires_at,
    };
    return jsonResponse(
      201,
      body,
      [...room.setCookie, setCookie].map((value): [string, string] => ['set-cookie', value]),
    );
  }

  /**
   * Ends the oldest session of a browser at its binding limit. Resolves the
   * failure to answer the create with while its binding must stay; `undefined`
   * once it may go (ended, already gone, or refused to this key for good: an
   * unending session must not block every create of a kiosk).
   */
  async function evict(sessionId: string, userId: string): Promise<VendorFailure | undefined> {
    const result = await vendor.endSession(sessionId);
    if (!result.ok && result.reason !== 'not-found') {
      if (result.reason !== 'rejected') return result;
      await recordFailure(result, { sessionId, userId });
      return undefined;
    }
    await record('info', 'session-evicted', { sessionId, userId }, { status: 200 });
    return undefined;
  }

  async function read(sessionId: string, userId: string): Promise<Response> {
    const result = await vendor.readSession(sessionId);
    if (!result.ok) return answerFailure(result, { sessionId, userId });
    await record('debug', 'session-read', { sessionId, userId }, { status: 200 });
    const body: ProxySessionStatus = {
      session_id: sessionId,
      status: result.value.status,
      expires_at: result.value.expires_at,
    };
    return jsonResponse(200, body);
  }

  async function end(request: Request, sessionId: string, userId: string): Promise<Response> {
    const decision = deleteLimit.take(userId);
    if (!decision.allowed) return rateLimited(decision, userId);
    const result = await vendor.endSession(sessionId);
    if (!result.ok && result.reason !== 'not-found') return answerFailure(result, { sessionId, userId });
    const body: DeletedSession | ProxyDeletedSession = result.ok
      ? result.value
      : { message: 'Session already terminated', session_id: sessionId, already_terminated: true };
    await record('info', result.ok ? 'session-ended' : 'session-already-ended', { sessionId, userId }, { status: 200 });
    // Retired, not cleared: a retry of this delete (its answer lost on the way) is still idempotent.
    return jsonResponse(200, body, { 'set-cookie': await bindings.retire(request, sessionId, userId) });
  }

  async function answer(request: Request, route: Route | undefined): Promise<Response> {
    if (!route) return refuse(404, ProxyErrorCode.NotFound, 'There is no widget-session route here.');
    if (hasAmbiguousPath(request))
      return refuse(
        400,
        ProxyErrorCode.ValidationError,
        'Send a plain path: no dot segments, backslashes or encoded slashes.',
      );
    if (!route.methods.includes(request.method)) {
      return refuse(
        405,
        ProxyErrorCode.MethodNotAllowed,
        `Use ${route.methods.join(' or ')} here.`,
        {},
        { allow: route.methods.join(', ') },
      );
    }
    const foreign = refuseForeignRequest(request, config.allowedOrigins);
    if (foreign) return refuse(foreign.status, foreign.code, foreign.message);
    const userId = await authorizeRequest(config.authorize, request);
    if (userId === null || userId === undefined || userId === '') {
      return refuse(401, ProxyErrorCode.AuthenticationRequired, 'Sign in to use the avatar widget.');
    }
    if (typeof userId !== 'string') {
      throw new TypeError('authorize(request) must return a user id string, or null when nobody is signed in');
    }
    if (route.kind === 'collection') return create(request, userId);
    const sessionId = route.rawId;
    if (!isValidSessionId(sessionId))
      return refuse(400, ProxyErrorCode.ValidationError, describeInvalidSessionId(sessionId), { userId });
    if (!(await bindings.isOwner(request, sessionId, userId))) {
      return refuse(
        403,
        ProxyErrorCode.InsufficientPermissions,
        'This session was not created for the signed-in user.',
        {
          sessionId,
          userId,
        },
      );
    }
    return request.method === 'GET' ? read(sessionId, userId) : end(request, sessionId, userId);
  }

  function routeOf(input: Request | URL | string): Route | undefined {
    const url =
      input instanceof URL ? input : new URL(typeof input === 'string' ? input : input.url, 'http://localhost');
    return matchRoute(url.pathname, config.basePath);
  }

  async function handler(request: Request): Promise<Response> {
    try {
      return await answer(request, routeOf(request));
    } catch (error) {
      const requestId = newRequestId();
      const { event, ...described } = describeFailure(error, [config.apiKey, ...config.secrets]);
      await record('error', event, {}, { status: 500, requestId, ...described }).catch(() => undefined);
      return jsonResponse(
        500,
        errorBody(ProxyErrorCode.InternalError, 'The widget session proxy failed; see the server log.', requestId),
      );
    }
  }

  async function endSessions(request: Request): Promise<EndSessionsResult> {
    const { authentic, unreadable } = await bindings.readAll(request);
    const outcome: EndSessionsResult = {
      ended: [],
      failed: [],
      setCookie: unreadable.map((name) => bindings.clearByName(request, name)),
    };
    await Promise.all(
      authentic.map(async (binding) => {
        const { sessionId } = binding;
        // A retired binding names a session deleted already; one past its lifetime, a session
        // the vendor expired long ago. Neither needs the vendor.
        if (binding.retired) outcome.ended.push(sessionId);
        else if (bindings.isLive(binding)) {
          const result = await vendor.endSession(sessionId);
          if (!result.ok && result.reason !== 'not-found') {
            outcome.failed.push(sessionId);
            await recordFailure(result, { sessionId });
            return;
          }
          outcome.ended.push(sessionId);
          await record('info', result.ok ? 'session-ended' : 'session-already-ended', { sessionId });
        }
        outcome.setCookie.push(bindings.clearByName(request, binding.name));
      }),
    );
    return outcome;
  }

  return Object.assign(handler, {
    basePath: config.basePath,
    handles: (request: Request | URL | string) => routeOf(request) !== undefined,
    endSessions,
    isSameOrigin: (request: Request) => refuseCrossSite(request, config.allowedOrigins) === undefined,
  });
}

/** A vendor 404 to a create is about the configuration (avatar or base URL), not a session the browser holds. */
function asConfigurationError(failure: VendorFailure): VendorFailure {
  const message = 'The Konpro API answered 404 to creating a session; check agenticAvatarId and baseUrl.';
  return {
    ...failure,
    status: 502,
    body: errorBody(ProxyErrorCode.UpstreamBadResponse, message, failure.body.request_id),
  };
}
