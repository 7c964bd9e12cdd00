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
import { resolveOptions, type VendorSessionAnswer, type WidgetSessionProxyOptions } from './options.js';
import { StoreRateLimit, type RateLimitDecision } from './rate-limit.js';
import { EventStreams } from './registry/event-streams.js';
import { GuardedStore, type StoreState } from './registry/guarded-store.js';
import { Scheduler } from './registry/scheduler.js';
import { ServerDeletes } from './registry/server-deletes.js';
import { SessionRegistry, type RevokeOptions, type RevokeResult } from './registry/session-registry.js';
import {
  authorizeRequest,
  hasAmbiguousPath,
  matchRoute,
  refuseCrossSite,
  refuseForeignRequest,
  type Route,
} from './request-checks.js';
import { SessionBindings } from './session-binding.js';
import { StatusCache } from './status-cache.js';
import { Signer } from './signing.js';
import { isFeedId, type RegisteredSession, type WidgetSessionStore } from './store/store.js';
import { VendorClient, type VendorFailure, type VendorResult } from './vendor-client.js';

export type { RevokeOptions, RevokeResult } from './registry/session-registry.js';

/** What `sweep()` did. */
export interface SweepResult {
  /** Sessions no page had shown for `orphanAfterMs`, now ended (their deletes made or queued). */
  orphaned: string[];
  /** Queued server-side deletes attempted again. */
  retried: string[];
  /** Of those, the ones the vendor confirmed (they left the queue). */
  confirmed: string[];
}

/** What `health()` says, for a site's health route. */
export interface ProxyHealth {
  /** `degraded`: the store does not answer; creates, status checks and deletes go on, the registry does not. */
  store: StoreState;
  /** Why, when degraded (never a secret or a URL's credentials). */
  detail?: string;
}

/** What a status check came to: the vendor's answer, or the read limit's refusal (no vendor call). */
type StatusCheck = VendorResult<VendorSessionAnswer> | Exclude<RateLimitDecision, { allowed: true }>;

/** `Retry-After` of a create refused at `maxLiveSessions`: sessions end by the minute, not the millisecond. */
const CAPACITY_RETRY_SECONDS = 30;

/** Most sessions one event stream may report (`?session=` parameters). */
const MAX_STREAM_SESSIONS = 64;

/** @internal How often the proxy sweeps and pings its streams; tests shorten them. */
export interface ProxyTimings {
  /** Between `: ping` comments on each stream (and touches of the sessions it reports). Default 15 000. */
  heartbeatMs: number;
  /** Between runs of the orphan sweep and the retry queue. Default 10 000. */
  sweepIntervalMs: number;
}

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
  /**
   * Ends every live session of `userId` on every device: deleted at the
   * vendor, and every open page that follows the event stream tears its
   * widget down at once (`reason`, default `revoked`). Deletes the vendor
   * cannot make now are queued and retried. An unknown user is
   * `{ended: [], failed: []}`. Rejects when the store does not answer (it
   * cannot tell which sessions the user has).
   */
  revokeUser(userId: string, options?: RevokeOptions): Promise<RevokeResult>;
  /**
   * The same for one session, whoever owns it. A valid id the registry does
   * not know is still deleted at the vendor; one the vendor does not know
   * either is `{ended: [], failed: []}`. A malformed id rejects with a `TypeError`.
   */
  revokeSession(sessionId: string, options?: RevokeOptions): Promise<RevokeResult>;
  /** What is live now, of one user or all, oldest first. Rejects when the store does not answer. */
  listSessions(filter?: { userId?: string }): Promise<RegisteredSession[]>;
  /** Runs the orphan sweep and the retry queue now (they also run on a timer). */
  sweep(): Promise<SweepResult>;
  /** Whether the store answers, for a site's health route. Never rejects. */
  health(): Promise<ProxyHealth>;
  /**
   * Stops every timer, ends open event streams and waits for a running sweep;
   * closes the store when the proxy made it (the default `memoryStore()`).
   * For graceful shutdown and tests.
   */
  close(): Promise<void>;
  /** The store the registry lives in (e.g. for `claimOnce` in a back-channel logout). */
  readonly store: WidgetSessionStore;
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
  return createProxy(options);
}

/** @internal `createWidgetSessionProxy` with its timings open to tests. */
export function createProxy(
  options: WidgetSessionProxyOptions,
  timings: Partial<ProxyTimings> = {},
): WidgetSessionProxy {
  const config = resolveOptions(options);
  // The first secret signs bindings and log hashes; every one verifies bindings (a rotation).
  const signer = new Signer(config.secret);
  const previous = config.secrets.slice(1).map((secret) => new Signer(secret));
  const bindings = new SessionBindings([signer, ...previous], config.cookie);
  const vendor = new VendorClient(config);
  // A vendor answer is reused for a moment; a failure or a refusal by the read limit never is.
  const statusCache = new StatusCache<StatusCheck>(config.statusCacheMs, (checked) => 'ok' in checked && checked.ok);
  // Anyone can provoke a refusal: their log lines are sampled, with a count of what was dropped.
  const refusalLog = new LogSampler();
  const instanceId = globalThis.crypto.randomUUID();
  // Longer than one vendor call can take, so a lease never lapses while its delete is in flight.
  const leaseMs = config.timeoutMs + 5_000;
  const scheduler = new Scheduler((error) => {
    void record('error', 'internal-error', {}, describeFailure(error, [config.apiKey, ...config.secrets]));
  });
  const guarded = new GuardedStore(
    config.store,
    ({ state, detail }) => {
      // Once per outage, not once per request. The recovery is a warning too, so the default log
      // (which drops info) shows the end of every outage it showed the start of.
      if (state === 'degraded') void record('error', 'store-degraded', {}, { detail });
      else {
        void record('warn', 'store-recovered', {});
        registry.storeRecovered();
        // What this instance created meanwhile goes into the registry now, not at the next sweep.
        scheduler.after(0, () => registry.catchUp());
      }
    },
    [config.apiKey, ...config.secrets],
  );
  // Counted in the store, so the instances sharing it share each user's count.
  const { creates, deletes: deleteCount, reads, windowMs } = config.rateLimit;
  const createLimit = new StoreRateLimit('create', creates, windowMs, guarded);
  const deleteLimit = new StoreRateLimit('delete', deleteCount, windowMs, guarded);
  const readLimit = new StoreRateLimit('read', reads, windowMs, guarded);
  const deletes = new ServerDeletes({ vendor, store: guarded, scheduler, record, instanceId, leaseMs });
  const streams = new EventStreams({
    store: guarded,
    scheduler,
    heartbeatMs: timings.heartbeatMs ?? 15_000,
    ended: (sessionId) => statusCache.forget(sessionId),
  });
  const registry = new SessionRegistry({
    store: guarded,
    deletes,
    record,
    scheduler,
    orphanAfterMs: config.orphanAfterMs,
    instanceId,
    leaseMs,
    sessionLifetimeMs: (config.sessionSettings.max_duration ?? 3600) * 1000,
    shownHere: (sessionId) => streams.pagesOf(sessionId) > 0,
    ending: (sessionId) => statusCache.forget(sessionId),
  });
  let sweeping: Promise<SweepResult> | undefined;
  scheduler.every(timings.sweepIntervalMs ?? 10_000, async () => {
    await sweep();
  });

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
    // The user's live sessions are counted beside the limit's hit: one round trip to a networked store.
    const [decision, counted] = await Promise.all([createLimit.take(userId), registry.count(userId)]);
    if (!decision.allowed) return rateLimited(decision, userId);
    if (await atCapacity(userId)) {
      return refuse(
        429,
        ProxyErrorCode.CapacityReached,
        'The site runs as many avatar sessions as it allows; try again later.',
        { userId },
        { 'retry-after': String(CAPACITY_RETRY_SECONDS) },
      );
    }
    // Before the vendor creates anything: a session that could not be bound would run unowned.
    let evicted = false;
    const room = await bindings.makeRoom(request, (sessionId) => {
      evicted = true;
      return evict(sessionId, userId);
    });
    if (room.failure) return answerFailure(room.failure, { userId });
    // At the user's cap the oldest session goes (a real vendor delete), so a kiosk never locks itself out.
    // An eviction for the binding limit ended one of the user's sessions since the count: count again.
    await registry.makeRoom(userId, config.maxSessionsPerUser, evicted ? undefined : counted);
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
    const expiresAt = Date.parse(session.expires_at);
    const setCookie = await bindings.issue(request, session.session_id, userId, expiresAt);
    const now = Date.now();
    const createdAt = session.created_at === undefined ? NaN : Date.parse(session.created_at);
    await registry.created({
      sessionId: session.session_id,
      userId,
      createdAt: Number.isNaN(createdAt) ? now : createdAt,
      expiresAt,
      // Created is shown: the page that asked mounts it now.
      lastSeenAt: now,
      pages: 0,
    });
    await registry.holdCap(userId, config.maxSessionsPerUser);
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
   * Whether the site is at `maxLiveSessions` for this create. A user at
   * `maxSessionsPerUser` replaces their oldest session, which adds none. A
   * store that does not answer cannot say: the create goes on.
   */
  async function atCapacity(userId: string): Promise<boolean> {
    if (config.maxLiveSessions === Infinity) return false;
    const live = await guarded.attempt((s) => s.count());
    if (!live.ok || live.value < config.maxLiveSessions) return false;
    const own = await guarded.attempt((s) => s.count({ userId }));
    return !(own.ok && own.value >= config.maxSessionsPerUser);
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
    // Gone for good: not a live session any more, and a page still showing it (another tab) is told.
    await registry.ended(sessionId, 'revoked');
    await record('info', 'session-evicted', { sessionId, userId }, { status: 200 });
    return undefined;
  }

  async function read(sessionId: string, userId: string): Promise<Response> {
    // Checks of this session made meanwhile share the limit's decision and the vendor's answer.
    const checked = await (statusCache.peek(sessionId) ??
      statusCache.load(sessionId, async () => {
        const decision = await readLimit.take(userId);
        return decision.allowed ? vendor.readSession(sessionId) : decision;
      }));
    if ('allowed' in checked) {
      // The page still shows the session: a limited check must not make it look orphaned.
      registry.shown([sessionId]);
      return rateLimited(checked, userId);
    }
    const result = checked;
    // Only the vendor's answer decides the page's; the registry follows it and is never asked.
    const now = Date.now();
    if (!result.ok) {
      if (result.reason === 'not-found') await registry.ended(sessionId, 'terminated', 'expired');
      return answerFailure(result, { sessionId, userId });
    }
    if (result.value.status === 'active') registry.shown([sessionId]);
    else await registry.ended(sessionId, Date.parse(result.value.expires_at) <= now ? 'expired' : 'terminated');
    await record('debug', 'session-read', { sessionId, userId }, { status: 200 });
    const body: ProxySessionStatus = {
      session_id: sessionId,
      status: result.value.status,
      expires_at: result.value.expires_at,
    };
    return jsonResponse(200, body);
  }

  async function end(request: Request, sessionId: string, userId: string): Promise<Response> {
    const decision = await deleteLimit.take(userId);
    if (!decision.allowed) return rateLimited(decision, userId);
    statusCache.forget(sessionId);
    const result = await vendor.endSession(sessionId);
    statusCache.forget(sessionId);
    if (!result.ok && result.reason !== 'not-found') return answerFailure(result, { sessionId, userId });
    await registry.ended(sessionId, 'logout');
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
    if (route.kind === 'events') return openEvents(request, userId);
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

  async function openEvents(request: Request, userId: string): Promise<Response> {
    const accept = request.headers.get('accept');
    if (accept !== null && !/(?:^|,)\s*(?:text\/event-stream|text\/\*|\*\/\*)\s*(?:[;,]|$)/i.test(accept)) {
      return refuse(406, ProxyErrorCode.NotAcceptable, 'This route answers text/event-stream.', { userId });
    }
    const requested = new URL(request.url).searchParams.getAll('session');
    if (requested.length > MAX_STREAM_SESSIONS) {
      return refuse(
        400,
        ProxyErrorCode.ValidationError,
        `A stream reports at most ${MAX_STREAM_SESSIONS} sessions (got ${requested.length}).`,
        { userId },
      );
    }
    const invalid = requested.find((id) => !isValidSessionId(id));
    if (invalid !== undefined)
      return refuse(400, ProxyErrorCode.ValidationError, `session parameter: ${describeInvalidSessionId(invalid)}`, {
        userId,
      });
    // An empty Last-Event-ID is the SSE way of saying "from now on".
    const lastEventId = request.headers.get('last-event-id')?.trim() || undefined;
    if (lastEventId !== undefined && !isFeedId(lastEventId)) {
      return refuse(
        400,
        ProxyErrorCode.ValidationError,
        'Last-Event-ID must be an id this stream sent, such as "1733140000000-0".',
        { userId },
      );
    }
    return streams.open(request, userId, [...new Set(requested)], lastEventId);
  }

  async function sweep(): Promise<SweepResult> {
    // One sweep at a time per instance: a timer run and a sweep() call share the run in progress.
    sweeping ??= (async () => {
      try {
        const orphaned = await registry.sweepOrphans();
        const { retried, confirmed } = await deletes.retryDue();
        return { orphaned, retried, confirmed };
      } finally {
        sweeping = undefined;
      }
    })();
    return sweeping;
  }

  async function close(): Promise<void> {
    scheduler.close();
    streams.close();
    await sweeping?.catch(() => undefined);
    // What status checks showed is not lost at a graceful shutdown.
    await registry.writeShown();
    if (config.ownsStore) await config.store.close();
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
          // The site logs the user out whatever the vendor says now: the pages are told at once, and a
          // delete the vendor cannot confirm now is queued and retried.
          const ended = await registry.endOne(sessionId, 'logout');
          if (ended.outcome !== 'deleted' && ended.outcome !== 'already-gone') {
            outcome.failed.push(sessionId);
            return;
          }
          outcome.ended.push(sessionId);
          await record('info', ended.outcome === 'deleted' ? 'session-ended' : 'session-already-ended', { sessionId });
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
    revokeUser: (userId: string, revoke?: RevokeOptions) => registry.revokeUser(userId, revoke),
    revokeSession: (sessionId: string, revoke?: RevokeOptions) => registry.revokeSession(sessionId, revoke),
    listSessions: (filter?: { userId?: string }) => registry.list(filter),
    sweep,
    health: () => guarded.health(),
    close,
    store: config.store,
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
