/**
 * Everything that can tell a guard its session is over, in one place: the
 * page's responses (response-watch.ts), the widget frame's messages
 * (frame-messages.ts), the status checks (status-check.ts), the expiry time
 * and a machine that slept (session-clock.ts), and another tab that ended it
 * while this page was hidden or in the back/forward cache. It decides only
 * which news is about the held session; the session controller ends it.
 * Every watch lives in the session's scope, so it needs no hooks of the host.
 */
import { sessionIdInUrl, Verdict, type Classification } from './classify-response.js';
import { watchFrameMessages } from './frame-messages.js';
import { watchResponses } from './response-watch.js';
import { watchClock, type SessionClock } from './session-clock.js';
import { watchStatus, type StatusCheck } from './status-check.js';
import type { GuardConfig } from '../element/config.js';
import type { KonproWidgetGuard } from '../element/konpro-widget-guard.js';
import { childScope } from '../platform/async.js';
import { onPage } from '../platform/page-lifecycle.js';
import { pushHub } from '../push/push-hub.js';
import { endedSessions } from '../session/ended-sessions.js';
import { isRecord } from '../shared/konpro-api.js';
import { sessionResourceUrl } from '../shared/session-id.js';

const DEFAULT_CHECK_INTERVAL = 30;

/** A session as the guard holds it, from the moment it is asked to mount it. */
export interface HeldSession {
  readonly id: string;
  /** Aborted on teardown or release: every listener, timer and watch of the session goes with it. */
  readonly scope: AbortController;
  /** Settles when the session is active, refused or gone. */
  ready: Promise<void>;
  expiresAt?: number;
  clock?: SessionClock;
  status?: StatusCheck;
  /** The status checks' own scope, so a new check-interval can restart them. */
  statusScope?: AbortController;
  /** While the page's event stream reports the session (`push`). */
  pushScope?: AbortController;
}

export interface SessionWatchPorts {
  /** The session held now, if any. */
  held(): HeldSession | undefined;
  /** Ends the held session; `broadcast`: tell the other tabs (not when they told us). */
  end(reason: 'terminated' | 'expired' | 'other-tab', broadcast?: boolean): void;
  /** The windows of the widget's frames, whose messages are trusted. */
  frames(): Window[];
  /** The widget frame said someone is using it. */
  activity(): void;
}

export class SessionWatch {
  readonly #host: KonproWidgetGuard;
  readonly #config: GuardConfig;
  readonly #ports: SessionWatchPorts;
  /** The session the `expiresAt` property was set for. */
  #expiresAtFor: string | undefined;

  constructor(config: GuardConfig, ports: SessionWatchPorts) {
    this.#host = config.host;
    this.#config = config;
    this.#ports = ports;
  }

  /** Installs every watch of `session`, which is about to go active; all go with `session.scope`. */
  watch(session: HeldSession, origin: string | undefined, startedExpiry: string | undefined): void {
    const { signal } = session.scope;
    watchResponses(
      {
        prefixes: this.#config.watchPrefixes(),
        onResponse: (classification, url, body) => this.#onResponse(session, classification, url, body),
      },
      signal,
    );
    if (origin) {
      watchFrameMessages(
        {
          origin,
          sessionId: session.id,
          frames: () => this.#ports.frames(),
          onTerminated: () => this.#end(session, 'terminated'),
          onMessage: (data) => data.type === 'konpro-widget-activity' && this.#ports.activity(),
        },
        signal,
      );
    }
    // Back from the back/forward cache, or visible again: another tab may have ended it meanwhile.
    onPage({ returned: () => void this.recheckEnded() }, signal);
    const { expiresAt } = this.#host;
    if (startedExpiry) this.#setExpiry(session, startedExpiry, 'start');
    else if (expiresAt !== null && (this.#expiresAtFor ?? session.id) === session.id) {
      this.#expiresAtFor = session.id;
      this.#setExpiry(session, expiresAt, 'property');
    }
    session.clock = watchClock(
      {
        deadline: () => session.expiresAt,
        onDeadline: () => this.#end(session, 'expired'),
        onWake: () => {
          void this.recheckEnded();
          session.status?.checkNow();
        },
      },
      signal,
    );
    if (signal.aborted) return; // ended by the clock's first check (expired already)
    this.restartStatusChecks(session);
    this.restartPush(session);
  }

  /**
   * With `push`, the page's event stream reports the session (push/push-hub.ts); its news comes as a
   * tab message to the session controller. Without the route, status checks alone go on.
   */
  restartPush(session: HeldSession): void {
    session.pushScope?.abort();
    const proxy = this.#config.proxyUrl(true);
    if (!this.#host.push || !proxy || session.scope.signal.aborted) return;
    session.pushScope = childScope(session.scope.signal);
    pushHub(proxy).show(
      session.id,
      () => this.#config.error('push-unavailable', 'the proxy has no event stream (404): status checks only', true),
      session.pushScope.signal,
    );
  }

  /** (Re)starts the status checks with the current check-interval. */
  restartStatusChecks(session: HeldSession): void {
    if (session.scope.signal.aborted) return;
    const proxy = this.#config.proxyUrl(true);
    const seconds = this.#config.seconds(this.#host.checkInterval, DEFAULT_CHECK_INTERVAL, 'check-interval');
    session.statusScope?.abort();
    if (!proxy || seconds <= 0) return;
    const scope = childScope(session.scope.signal);
    session.statusScope = scope;
    session.status = watchStatus(
      {
        url: sessionResourceUrl(proxy, session.id),
        intervalMs: seconds * 1000,
        // A status answer is about the session it names, else the one it asked about.
        onAnswer: (classification) => this.#news(session, classification, classification.sessionId ?? session.id),
      },
      scope.signal,
    );
  }

  /** The `expiresAt` property changed: it is the named session's (set with a new session-id: that one's). */
  expiresAtChanged(): void {
    const session = this.#ports.held();
    const { expiresAt } = this.#host;
    this.#expiresAtFor = this.#host.sessionId || session?.id;
    if (expiresAt !== null && session && session.id === this.#expiresAtFor)
      this.#setExpiry(session, expiresAt, 'property');
  }

  /** Another tab may have ended the session while this page was hidden or cached. */
  async recheckEnded(): Promise<void> {
    const session = this.#ports.held();
    if (!session) return;
    if (await endedSessions().has(session.id)) this.#end(session, 'other-tab', false);
    else session.clock?.check();
  }

  #onResponse(session: HeldSession, classification: Classification, url: URL, body: unknown): void {
    if (classification.verdict !== Verdict.Ended && classification.verdict !== Verdict.Alive) return;
    const proxy = this.#config.proxyUrl(true);
    const named = classification.sessionId ?? sessionIdInUrl(url, proxy ? [new URL(proxy)] : []);
    // A bare 404 page that names no session (a CDN or load balancer during a deploy) says nothing:
    // an unnamed "gone" must at least be a JSON answer of the API.
    if (named !== undefined || isRecord(body)) this.#news(session, classification, named);
  }

  /** What a response or status answer says, applied if it is about `session` and that is still held. */
  #news(session: HeldSession, classification: Classification, named: string | undefined): void {
    // A response about another session says nothing about this one.
    if (this.#ports.held() !== session || (named ?? session.id) !== session.id) return;
    if (classification.verdict === Verdict.Ended) this.#ports.end('terminated');
    else if (named !== undefined && classification.verdict === Verdict.Alive && classification.expiresAt)
      this.#setExpiry(session, classification.expiresAt, 'status');
  }

  /** Ends `session` if it is still the one held. */
  #end(session: HeldSession, reason: 'terminated' | 'expired' | 'other-tab', broadcast?: boolean): void {
    if (this.#ports.held() === session) this.#ports.end(reason, broadcast);
  }

  #setExpiry(session: HeldSession, value: string | number | Date, source: string): void {
    const time = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
    if (!Number.isFinite(time)) {
      this.#config.error('invalid-expires-at', `expires-at from ${source} is not a date: ${String(value)}`, true);
      return;
    }
    session.expiresAt = time;
    session.clock?.rearm();
    session.clock?.check();
  }
}
