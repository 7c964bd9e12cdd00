/**
 * One guard's session, as a controller: start, auto-start, mount, activate,
 * end, release, logout and reset, each moving the lifecycle (lifecycle.ts)
 * and doing what its new phase asks: the widget placed or torn down
 * (teardown/widget-dom.ts), the watches installed (detection/session-watch.ts),
 * the ended id remembered (ended-sessions.ts), the other tabs and guards told,
 * the delete handed to the outbox.
 */
import type { ReactiveController } from 'lit';
import type { GuardConfig } from '../element/config.js';
import { dispatch, type DeleteDetail, type DeleteOutcome, type EndReason } from '../element/events.js';
import type { KonproWidgetGuard } from '../element/konpro-widget-guard.js';
import { PageGuard } from '../element/page-guards.js';
import { IdleCountdown } from '../detection/idle-countdown.js';
import { activityHub } from '../detection/idle.js';
import { SessionWatch, type HeldSession } from '../detection/session-watch.js';
import { createSession, StartError } from '../net/proxy-client.js';
import { deleteOutbox, type DeleteOutbox } from '../outbox/outbox.js';
import { sleep } from '../platform/async.js';
import { retryDelay } from '../shared/backoff.js';
import { describeInvalidSessionId, isValidSessionId, sessionResourceUrl } from '../shared/session-id.js';
import { tabChannel, type TabChannel } from '../tabs/tab-channel.js';
import { WidgetDom } from '../teardown/widget-dom.js';
import { parseWipe, wipe } from '../teardown/wipe.js';
import { endedSessions, type EndedSessions } from './ended-sessions.js';
import {
  GuardState,
  INITIAL,
  isSettled,
  sessionToDelete,
  transition,
  type Lifecycle,
  type LifecycleEvent,
} from './lifecycle.js';

const NO_SESSION: DeleteOutcome = { sessionId: '', outcome: 'already-gone', attempts: 0 };

export class SessionController implements ReactiveController {
  readonly #host: KonproWidgetGuard;
  readonly #config: GuardConfig;
  /** Where the session lifecycle stands; `#session` is its held session's means. */
  #life: Lifecycle = INITIAL;
  #session: HeldSession | undefined;
  readonly #logouts = new Map<string, Promise<DeleteOutcome>>();
  /** Widget URL and expiry from `start()`, by session id. */
  readonly #started = new Map<string, { widgetUrl: string; expiresAt: string }>();
  #starting: Promise<void> | undefined;
  #resetting: Promise<void> | undefined;
  /** The delete of a session created by a start that a logout overtook. */
  #abandoned: Promise<DeleteOutcome> | undefined;
  #autoStartRun: Promise<void> | undefined;
  #connected: AbortController | undefined;

  // Page-wide services, shared by every guard of the page.
  // Page-wide services, shared by every guard of the page. Looked up when used, never in the
  // constructor: server-side rendering constructs the element where there is no page (and a
  // BroadcastChannel opened there would keep the server process alive).
  get #ended(): EndedSessions {
    return endedSessions();
  }
  get #outbox(): DeleteOutbox {
    return deleteOutbox();
  }
  get #channel(): TabChannel {
    return tabChannel();
  }

  // This guard's other concerns.
  readonly #page: PageGuard;
  readonly #dom: WidgetDom;
  readonly #idle: IdleCountdown;
  readonly #watch: SessionWatch;

  constructor(host: KonproWidgetGuard, config: GuardConfig) {
    this.#host = host;
    this.#config = config;
    host.addController(this);
    this.#page = new PageGuard(config, {
      held: () => this.#session?.id,
      asked: (sessionId) => this.#logouts.has(sessionId),
      endedElsewhere: () => this.#end('other-tab', false),
    });
    this.#dom = new WidgetDom(host);
    this.#idle = new IdleCountdown(config);
    this.#watch = new SessionWatch(config, {
      held: () => this.#session,
      end: (reason, broadcast) => this.#end(reason, broadcast),
      frames: () => this.#dom.windows(),
      activity: () => this.#idle.activity(),
    });
  }

  /** The `state` attribute. */
  get state(): GuardState {
    return this.#life.state;
  }

  get idle(): IdleCountdown {
    return this.#idle;
  }

  hostConnected(): void {
    const connected = new AbortController();
    this.#connected = connected;
    const { signal } = connected;
    this.#outbox.attach(
      signal,
      this.#config.proxyUrl(true, () => {}),
    );
    this.#outbox.subscribe((detail) => this.#onDeleteSettled(detail), signal);
    this.#channel.subscribe((message) => {
      if (message.kind !== 'ended') return;
      this.#ended.remember(message.sessionId, { endedAt: message.endedAt, reason: message.reason });
      // Pushed by the server (every tab hears it, this one too): its own reason; else another tab's doing.
      if (this.#session?.id === message.sessionId) this.#end(message.server ? message.reason : 'other-tab', false);
    }, signal);
    document.addEventListener('click', (event) => this.#onDocumentClick(event), { capture: true, signal });
  }

  hostDisconnected(): void {
    this.#connected?.abort();
    this.#connected = undefined;
    if (this.#session) {
      this.#release(this.#session);
      this.#go({ type: 'released' });
    }
  }

  /** Properties changed (from the host's `willUpdate`). */
  propertiesChanged(changed: ReadonlyMap<PropertyKey, unknown>, firstUpdate: boolean): void {
    const active = this.#session && this.#life.state === GuardState.Active ? this.#session : undefined;
    // Restart (or start) the checks with the new interval.
    if (changed.has('checkInterval') && active) this.#watch.restartStatusChecks(active);
    if (changed.has('push') && active) this.#watch.restartPush(active);
    if ((changed.has('idleTimeout') || changed.has('idleWarning')) && active) this.#restartIdle(active);
    if (changed.has('expiresAt')) this.#watch.expiresAtChanged();
    if (changed.has('sessionId') || changed.has('autoStart') || firstUpdate) this.apply();
  }

  logout(): Promise<DeleteOutcome> {
    if (!this.#session && this.#starting && this.#life.creating) {
      // A session is being created: it must never go live, and is deleted the moment it exists.
      this.#go({ type: 'logout' });
      this.#abandoned = undefined;
      const settle = () => this.#abandoned ?? NO_SESSION;
      return this.#starting.then(settle, settle);
    }
    const sessionId = sessionToDelete(this.#life);
    if (sessionId === undefined) return Promise.resolve(NO_SESSION);
    if (this.#session) this.#end('logout');
    return this.#deleteSession(sessionId);
  }

  reset(reason: 'reset' | 'idle' = 'reset'): Promise<void> {
    this.#resetting ??= this.#reset(reason).finally(() => {
      this.#resetting = undefined;
    });
    return this.#resetting;
  }

  start(retrying = false): Promise<void> {
    this.#starting ??= this.#start(retrying).finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(retrying: boolean): Promise<void> {
    if (this.#session) return this.#session.ready;
    const proxy = this.#config.proxyUrl();
    if (!proxy) {
      this.#go({ type: 'failed' });
      // (What is wrong with it was reported as konpro-guard-error by proxyUrl().)
      throw new Error('konpro-widget-guard: start() needs a valid proxy attribute');
    }
    this.#outbox.useProxy(proxy);
    this.#go({ type: 'start' });
    const { epoch } = this.#life;
    let created;
    try {
      created = await createSession(proxy);
    } catch (error) {
      const stale = epoch !== this.#life.epoch;
      // A kiosk keeps its attract screen while it retries; a direct call shows the error.
      this.#go({ type: 'start-failed', epoch, retrying });
      if (stale) return; // logged out meanwhile: nothing to show
      const message = error instanceof StartError ? error.message : String(error);
      this.#config.error(
        'start-failed',
        `could not start a session: ${message}${retrying ? ' (retrying)' : ''}`,
        false,
      );
      throw error;
    }
    const abandoned = epoch !== this.#life.epoch;
    this.#go({ type: 'created', epoch, sessionId: created.sessionId });
    if (abandoned) {
      // Logged out while the proxy was creating it: end it without ever mounting it.
      void this.#ended.add(created.sessionId, 'logout');
      this.#abandoned = this.#deleteSession(created.sessionId);
      return;
    }
    this.#started.set(created.sessionId, { widgetUrl: created.widgetUrl, expiresAt: created.expiresAt });
    this.#host.sessionId = created.sessionId;
    this.apply();
    // (The compiler narrowed #session to undefined above; apply() set it.)
    await (this.#session as HeldSession | undefined)?.ready;
  }

  /** Starts a session, retrying with backoff while auto-start holds and the guard is in the page. */
  #autoStart(): Promise<void> {
    const host = this.#host;
    this.#autoStartRun ??= (async () => {
      for (let attempt = 1; host.autoStart && host.isConnected && !this.#session; attempt++) {
        try {
          await this.start(true);
          return;
        } catch {
          if (!this.#config.proxyUrl(true)) return; // misconfigured: retrying cannot help (reported already)
          await sleep(retryDelay(attempt, undefined, { baseMs: 1_000, capMs: 30_000 }), this.#connected?.signal);
        }
      }
    })().finally(() => {
      this.#autoStartRun = undefined;
    });
    return this.#autoStartRun;
  }

  async #reset(reason: 'reset' | 'idle'): Promise<void> {
    const host = this.#host;
    // A start under way brings the fresh session a reset would: join it.
    if (this.#starting && !this.#session) return this.#starting.catch(() => undefined);
    const focusWasHere = host.contains(document.activeElement) || document.activeElement === host;
    const live = this.#session?.id;
    if (live !== undefined) {
      this.#end(reason);
      void this.#deleteSession(live);
    }
    // Wipe for the last session even when it ended earlier (expired, revoked, logged out).
    const sessionId = sessionToDelete(this.#life);
    if (sessionId !== undefined) this.#started.delete(sessionId);
    host.sessionId = null;
    this.#go({ type: 'reset' });
    const start = host.renderRoot.querySelector<HTMLElement>('.start');
    if (focusWasHere && start) activityHub().quietly(() => start.focus());
    if (sessionId !== undefined) {
      const { list, errors } = parseWipe(host.wipe);
      for (const message of errors) this.#config.error('invalid-wipe', message, true);
      await wipe(list, sessionId);
    }
    if (host.autoStart) await this.#autoStart();
  }

  /** Shows the session the `session-id` property names (or none, or a fresh one with auto-start). */
  apply(): void {
    const host = this.#host;
    if (!host.isConnected) return;
    const id = host.sessionId;
    // Held already, or ended here (the element was moved, or auto-start toggled): nothing new to refuse or report.
    if (isSettled(this.#life, id)) return;
    if (this.#session) {
      this.#release(this.#session);
      this.#go({ type: 'released' });
    }
    if (id === null || id === '') {
      this.#go({ type: 'unset' });
      // (A reset starts the next session itself, after its wipe.)
      if (host.autoStart && !this.#resetting && this.#life.state === GuardState.Idle) void this.#autoStart();
      return;
    }
    if (!isValidSessionId(id)) {
      this.#go({ type: 'failed' });
      this.#config.error('invalid-session-id', describeInvalidSessionId(id), false);
      return;
    }
    const session: HeldSession = { id, scope: new AbortController(), ready: Promise.resolve() };
    this.#session = session;
    this.#go({ type: 'mount', sessionId: id });
    session.ready = this.#activate(session);
  }

  async #activate(session: HeldSession): Promise<void> {
    const host = this.#host;
    const { signal } = session.scope;
    // Never synchronously inside the update that set session-id: a listener of the refusal may set another.
    await Promise.resolve();
    const refused = this.#ended.knows(session.id) || (await this.#ended.has(session.id));
    if (signal.aborted) return;
    if (refused) {
      this.#end('invalid', false);
      return;
    }
    await host.updateComplete;
    if (signal.aborted) return;

    const widget = this.#config.widgetLocation(session.id, this.#started.get(session.id)?.widgetUrl);
    if ('error' in widget) {
      this.#release(session);
      this.#go({ type: 'failed' });
      this.#config.error(widget.code, widget.error, false);
      return;
    }
    // Watch first: the widget's very first requests (an embed's, as it is stamped) are read too.
    this.#watch.watch(session, widget.origin, this.#started.get(session.id)?.expiresAt);
    // The session may already be over (an expiry in the past ends it right in watch()).
    if (signal.aborted) return;
    this.#restartIdle(session);
    if (widget.url) {
      this.#dom.placeFrame(widget.url, this.#config.strings().frameTitle);
    } else {
      this.#dom.stampTemplates(session.id);
      if (this.#dom.slotted().length === 0) {
        this.#config.error('no-widget', 'nothing to show: no widget-src, no widget markup in the default slot', true);
      }
    }
    this.#go({ type: 'active' });
    dispatch(host, 'konpro-session-start', { sessionId: session.id });
  }

  /** Watches for inactivity (kiosks) while `idle-timeout` is set. */
  #restartIdle(session: HeldSession): void {
    this.#idle.restart(
      session.scope.signal,
      () => this.#dom.frameFocused(),
      () => this.#session === session && void this.reset('idle'),
    );
  }

  /**
   * Ends the held session: tears the widget down synchronously, remembers the
   * id as ended (here at once, in storage and other tabs right after), shows
   * the terminated panel, and fires `konpro-session-end`.
   */
  #end(reason: EndReason, broadcast = true): void {
    const session = this.#session;
    if (!session) return;
    const host = this.#host;
    // Other tabs first: the message leaves before this tab's teardown keeps the browser busy
    // (removing a frame is work for the browser process too, and would queue in front of it).
    if (broadcast) this.#channel.post({ kind: 'ended', sessionId: session.id, reason, endedAt: Date.now() });
    const focusWasInWidget = this.#dom.hasFocus() || this.#idle.showing;
    this.#idle.stop();
    this.#release(session);
    this.#dom.removeMarkup();
    void this.#ended.add(session.id, reason);
    // Other guards of this page showing the session end too.
    if (broadcast) this.#page.endElsewhere(session.id);
    this.#go({ type: reason === 'logout' ? 'logout' : reason === 'invalid' ? 'refused' : 'ended' });
    this.#config.announce(this.#config.strings().endedAnnouncement);
    const panel = host.renderRoot.querySelector<HTMLElement>('.terminated');
    if (focusWasInWidget && panel) activityHub().quietly(() => panel.focus());
    dispatch(host, 'konpro-session-end', { sessionId: session.id, reason });
  }

  /** Takes the session's widget and watches away, without ending the session. */
  #release(session: HeldSession): void {
    session.scope.abort();
    this.#dom.clear();
    if (this.#session === session) this.#session = undefined;
  }

  #deleteSession(sessionId: string): Promise<DeleteOutcome> {
    const existing = this.#logouts.get(sessionId);
    if (existing) return existing;
    const proxy = this.#config.proxyUrl();
    let outcome: Promise<DeleteOutcome>;
    if (!proxy) {
      outcome = Promise.resolve({ sessionId, outcome: 'failed', attempts: 0 });
    } else {
      outcome = this.#outbox.submit(sessionResourceUrl(proxy, sessionId), sessionId);
      this.#logouts.set(sessionId, outcome);
      // A refused delete is not the last word: a later logout() (signed in again, say) tries again.
      void outcome.then(
        (o) => o.outcome === 'failed' && this.#logouts.get(sessionId) === outcome && this.#logouts.delete(sessionId),
      );
    }
    return outcome;
  }

  #onDeleteSettled(detail: DeleteDetail): void {
    // One guard per page reports a delete: the one that asked for it, else the first connected one.
    if (!this.#page.reports(detail.sessionId)) return;
    if (detail.outcome === 'failed') this.#logouts.delete(detail.sessionId);
    dispatch(this.#host, 'konpro-delete', detail);
  }

  #onDocumentClick(event: Event): void {
    const selector = this.#host.logoutTrigger?.trim();
    // Nothing to log out of: no session, none starting, none before.
    if (!selector || (sessionToDelete(this.#life) === undefined && !this.#life.creating)) return;
    for (const target of event.composedPath()) {
      if (!(target instanceof Element)) continue;
      let matches: boolean;
      try {
        matches = target.matches(selector);
      } catch {
        this.#config.error('invalid-logout-trigger', `logout-trigger is not a valid CSS selector: ${selector}`, true);
        return;
      }
      if (matches) {
        void this.logout();
        return;
      }
    }
  }

  /** Moves the lifecycle on and reflects the state it shows. */
  #go(event: LifecycleEvent): void {
    this.#life = transition(this.#life, event);
    const host = this.#host;
    const state = this.state;
    if (host.isConnected && host.getAttribute('state') !== state) host.setAttribute('state', state);
  }
}
