import { html, LitElement, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { retryDelay } from '../shared/backoff.js';
import { sessionIdInUrl, Verdict, type Classification } from '../detection/classify-response.js';
import { deleteOutbox, type DeleteOutbox } from '../outbox/delete-outbox.js';
import { endedSessions, type EndedSessions } from '../session/ended-sessions.js';
import { isRecord } from '../shared/konpro-api.js';
import { dispatch, type DeleteDetail, type DeleteOutcome, type EndReason, type GuardErrorCode } from './events.js';
import { watchFrameMessages } from '../detection/frame-messages.js';
import { activityHub, watchIdle, type IdleWatch } from '../detection/idle.js';
import { createSession, StartError } from '../net/proxy-client.js';
import { watchResponses } from '../detection/response-watch.js';
import { watchClock, type SessionClock } from '../detection/session-clock.js';
import { describeInvalidSessionId, isValidSessionId, sessionResourceUrl } from '../shared/session-id.js';
import { watchStatus, type StatusCheck } from '../detection/status-check.js';
import { tabChannel, type TabChannel } from '../tabs/tab-channel.js';
import { sleep } from '../platform/async.js';
import { parseWipe, wipe } from '../teardown/wipe.js';
import { DEFAULT_STRINGS, type GuardStrings } from './strings.js';
import { styles } from './konpro-widget-guard.styles.js';
import {
  GuardState,
  guardState,
  INITIAL,
  isSettled,
  Phase,
  sessionToDelete,
  transition,
  type Lifecycle,
  type LifecycleEvent,
} from '../session/lifecycle.js';

export { GuardState };

/** Prefix watched by default besides the proxy: the vendor's API. */
export const VENDOR_API_PREFIX = 'https://api.konpro.ai/';

const DEFAULT_CHECK_INTERVAL = 30;
const DEFAULT_IDLE_WARNING = 10;

/** One session as the guard holds it, from the moment it is asked to mount it. */
interface HeldSession {
  readonly id: string;
  /** Aborted on teardown or release: every listener, timer and watch of the session goes with it. */
  readonly scope: AbortController;
  frame?: HTMLIFrameElement;
  /** Nodes stamped from a `<template>` in the default slot. */
  readonly stamped: Node[];
  expiresAt?: number;
  clock?: SessionClock;
  status?: StatusCheck;
  idle?: IdleWatch;
  idleScope?: AbortController;
  /** The status checks' own scope, so a new check-interval can restart them. */
  statusScope?: AbortController;
  /** Settles when the session is active, refused or gone. */
  ready: Promise<void>;
}

/** Numbers from attributes: anything unreadable becomes NaN, reported once and replaced by the default. */
const numberAttribute = {
  fromAttribute: (value: string | null) => (value === null || value.trim() === '' ? null : Number(value)),
  toAttribute: (value: number | null) => (value === null ? null : String(value)),
};

/**
 * `<konpro-widget-guard>` wraps a Konpro AI avatar widget and ends it the
 * moment its session ends: on logout, when the vendor says so, at expiry, in
 * every tab, and on idle kiosks. See the README for the full contract.
 *
 * @summary Ends a Konpro avatar widget the moment its session ends.
 *
 * @fires konpro-session-start - `{sessionId}`: a session is mounted and live.
 * @fires konpro-session-end - `{sessionId, reason}`: the widget is gone; reason is `logout`, `terminated`, `expired`, `other-tab`, `idle`, `reset` or `invalid`.
 * @fires konpro-delete - `{sessionId, outcome, attempts, status?}`: a logout's delete settled (`queued`: it will be retried).
 * @fires konpro-idle-warning - `{secondsLeft}`: a kiosk reset is coming unless someone acts.
 * @fires konpro-guard-error - `{code, message}`: misconfiguration or bad input.
 *
 * @slot - Widget markup of the host, shown while the session is active and removed when it ends. A `<template>` here is stamped afresh for each session, with `{session_id}` in its attributes replaced by the session id.
 * @slot terminated - Shown after the session ended (default: a short message).
 * @slot start - Shown while there is no session (kiosk attract screen).
 * @slot error - Shown when the guard cannot mount a widget (default: a short message).
 *
 * @csspart frame - The widget iframe the guard owns.
 * @csspart terminated - The panel shown after the session ended.
 * @csspart warning - The idle countdown before a kiosk reset.
 *
 * @cssproperty --konpro-guard-color - Text colour of the guard's panels (default inherited).
 * @cssproperty --konpro-guard-frame-height - Height of the widget frame (default 100% of the guard).
 * @cssproperty --konpro-guard-frame-min-height - Minimum height of the widget frame (default 360px).
 * @cssproperty --konpro-guard-frame-border - Border of the widget frame (default none).
 * @cssproperty --konpro-guard-frame-background - Background of the widget frame while it loads (default transparent).
 * @cssproperty --konpro-guard-radius - Corner radius of the frame and panels.
 * @cssproperty --konpro-guard-panel-padding - Padding of the panels.
 * @cssproperty --konpro-guard-panel-background - Background of the panels.
 * @cssproperty --konpro-guard-focus-color - Focus ring colour.
 * @cssproperty --konpro-guard-warning-backdrop - Backdrop of the idle countdown over the widget.
 * @cssproperty --konpro-guard-warning-background - Background of the countdown box.
 * @cssproperty --konpro-guard-warning-color - Text colour of the countdown box.
 * @cssproperty --konpro-guard-accent - Background of the countdown's button.
 * @cssproperty --konpro-guard-accent-color - Text colour of the countdown's button.
 */
export class KonproWidgetGuard extends LitElement {
  static override styles = styles;

  static override properties: PropertyDeclarations = {
    proxy: { type: String },
    sessionId: { type: String, attribute: 'session-id', reflect: true },
    widgetSrc: { type: String, attribute: 'widget-src' },
    widgetOrigin: { type: String, attribute: 'widget-origin' },
    watch: { type: String },
    checkInterval: { attribute: 'check-interval', converter: numberAttribute },
    autoStart: { type: Boolean, attribute: 'auto-start', reflect: true },
    idleTimeout: { attribute: 'idle-timeout', converter: numberAttribute },
    idleWarning: { attribute: 'idle-warning', converter: numberAttribute },
    logoutTrigger: { type: String, attribute: 'logout-trigger' },
    expiresAt: { attribute: 'expires-at' },
    wipe: { type: String },
    strings: { attribute: false },
  };

  /** URL of the site's backend proxy collection, e.g. `/api/widget-sessions`. Same origin as the page. */
  declare proxy: string | null;
  /** The active Konpro widget session id (1–128 of `A-Za-z0-9_-`). */
  declare sessionId: string | null;
  /** URL of the avatar widget page, rendered in an iframe the guard owns; `{session_id}` is replaced by the session id. */
  declare widgetSrc: string | null;
  /** Origin whose messages are trusted (default: the origin of the widget frame). */
  declare widgetOrigin: string | null;
  /** Space-separated URL prefixes whose responses are read for "session terminated" (default: the vendor API and the proxy). */
  declare watch: string | null;
  /**
   * Seconds between status checks while the page is visible; 0 turns them off.
   * @default 30
   */
  declare checkInterval: number | null;
  /** Without a session (and after a reset), ask the proxy for a new one. */
  declare autoStart: boolean;
  /** Seconds without activity before a kiosk reset (default: off). */
  declare idleTimeout: number | null;
  /**
   * Seconds of countdown before that reset.
   * @default 10
   */
  declare idleWarning: number | null;
  /** CSS selector: a click on a matching element anywhere in the document logs out. */
  declare logoutTrigger: string | null;
  /**
   * When the session expires: ISO 8601 text, a `Date`, or ms since the epoch. It belongs to the
   * session named when it is set (`session-id`, else the one shown); another session never
   * inherits it. Sessions from `start()` and status checks bring their own.
   */
  declare expiresAt: string | number | Date | null;
  /**
   * What a reset wipes besides the widget: space-separated `kind:name` entries, kind one of
   * `localStorage`, `sessionStorage`, `indexedDB`, `cookie`; `*` at the end makes a prefix;
   * `{session_id}` stands for the ended session.
   */
  declare wipe: string | null;
  /** The guard's own texts, to localise or reword them (any subset). */
  declare strings: Partial<GuardStrings>;

  /** Where the session lifecycle stands (see session/lifecycle.ts); `#session` is its held session's means. */
  #life: Lifecycle = INITIAL;
  #session: HeldSession | undefined;
  readonly #logouts = new Map<string, Promise<DeleteOutcome>>();
  /** Widget URL and expiry from `start()`, by session id. */
  readonly #started = new Map<string, { widgetUrl: string; expiresAt: string }>();
  /** The session the `expiresAt` property was set for. */
  #expiresAtFor: string | undefined;
  #starting: Promise<void> | undefined;
  #resetting: Promise<void> | undefined;
  /** The delete of a session created by a start that a logout overtook. */
  #abandoned: Promise<DeleteOutcome> | undefined;
  #autoStartRun: Promise<void> | undefined;
  /** Seconds left in the idle countdown, while it shows. */
  #secondsLeft: number | undefined;
  /** Where focus was before the countdown took it, to give it back. */
  #focusBeforeWarning: HTMLElement | null = null;
  #connected: AbortController | undefined;
  /** Misconfigurations already reported, so each is reported once. */
  readonly #reported = new Set<string>();
  #announcer: HTMLElement | null = null;

  // Page-wide services, shared by every guard of the page.
  readonly #ended: EndedSessions = endedSessions();
  readonly #outbox: DeleteOutbox = deleteOutbox();
  readonly #channel: TabChannel = tabChannel();

  constructor() {
    super();
    this.proxy = null;
    this.sessionId = null;
    this.widgetSrc = null;
    this.widgetOrigin = null;
    this.watch = null;
    this.checkInterval = 30; // (literal defaults: the custom-elements manifest shows them)
    this.autoStart = false;
    this.idleTimeout = null;
    this.idleWarning = 10;
    this.logoutTrigger = null;
    this.expiresAt = null;
    this.wipe = null;
    this.strings = {};
  }

  /** `idle` · `starting` · `active` · `terminated` · `error`. Reflected to the `state` attribute; read-only. */
  get state(): GuardState {
    return guardState(this.#life.phase);
  }

  static override get observedAttributes(): string[] {
    return [...super.observedAttributes, 'state'];
  }

  override attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    // `state` is the guard's to say: a write from outside is undone.
    if (name === 'state') {
      if (value !== this.state && this.isConnected) this.setAttribute('state', this.state);
      return;
    }
    super.attributeChangedCallback(name, old, value);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    connectedGuards.add(this);
    // Where IndexedDB fails, guarantees 2 and 4 hold for this page only: say so.
    this.#ended.onStorageError = this.#outbox.onStorageError = (error) => {
      for (const guard of connectedGuards) {
        guard.#error(
          'storage-unavailable',
          `IndexedDB is unavailable (${String(error)}): ended sessions and pending deletes are kept for this page only`,
          true,
        );
      }
    };
    this.setAttribute('state', this.state);
    const connected = new AbortController();
    this.#connected = connected;
    const { signal } = connected;
    this.#outbox.attach(signal);
    this.#outbox.subscribe((detail) => this.#onDeleteSettled(detail), signal);
    this.#channel.subscribe((message) => {
      if (message.kind !== 'ended') return;
      this.#ended.remember(message.sessionId, { endedAt: message.endedAt, reason: message.reason });
      if (this.#session?.id === message.sessionId) this.#end('other-tab', false);
    }, signal);
    document.addEventListener('click', (event) => this.#onDocumentClick(event), { capture: true, signal });
    window.addEventListener('pageshow', (event) => event.persisted && void this.#recheckEnded(), { signal });
    document.addEventListener(
      'visibilitychange',
      () => document.visibilityState === 'visible' && void this.#recheckEnded(),
      { signal },
    );
    // Reconnected after a move: the first update's willUpdate will not run again.
    if (this.hasUpdated) this.#applySessionId();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    connectedGuards.delete(this);
    this.#connected?.abort();
    this.#connected = undefined;
    if (this.#session) {
      this.#release(this.#session);
      this.#go({ type: 'released' });
    }
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('checkInterval') && this.#session && this.#life.phase === Phase.Active) {
      // Restart (or start) the checks with the new interval.
      this.#restartStatusChecks(this.#session);
    }
    if (
      (changed.has('idleTimeout') || changed.has('idleWarning')) &&
      this.#session &&
      this.#life.phase === Phase.Active
    ) {
      this.#restartIdle(this.#session);
    }
    if (changed.has('expiresAt')) {
      // Set with a new session-id in one update, it is that session's: not the one on its way out.
      this.#expiresAtFor = this.sessionId || this.#session?.id;
      if (this.expiresAt !== null && this.#session && this.#session.id === this.#expiresAtFor)
        this.#setExpiry(this.expiresAt, 'property');
    }
    if (changed.has('sessionId') || changed.has('autoStart') || !this.hasUpdated) this.#applySessionId();
  }

  protected override render() {
    const strings = this.#strings();
    return html`
      <div class="widget"><slot></slot></div>
      <div class="panel start" tabindex="-1"><slot name="start"></slot></div>
      <div class="panel terminated" part="terminated" tabindex="-1">
        <slot name="terminated"><p>${strings.ended}</p></slot>
      </div>
      <div class="panel error" role="alert">
        <slot name="error"><p>${strings.startFailed}</p></slot>
      </div>
      ${
        this.#secondsLeft === undefined
          ? nothing
          : html`
              <div
                part="warning"
                class="warning"
                role="alertdialog"
                aria-modal="true"
                aria-labelledby="idle-title"
                aria-describedby="idle-message"
              >
                <div class="warning-box">
                  <p id="idle-title" class="warning-title">${strings.idleTitle}</p>
                  <p id="idle-message">${strings.idleMessage(this.#secondsLeft)}</p>
                  <button class="still-here" type="button" @click=${() => this.#session?.idle?.activity()}>
                    ${strings.stillHere}
                  </button>
                </div>
              </div>
            `
      }
      <div class="visually-hidden" role="status" aria-live="polite" aria-atomic="true"></div>
    `;
  }

  protected override firstUpdated(): void {
    this.#announcer = this.renderRoot.querySelector('[role="status"]');
  }

  /**
   * Ends the session: the widget is torn down synchronously, before any
   * network I/O; then the proxy deletes the session through the persistent
   * outbox. Resolves with the first settlement of that delete.
   */
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

  /**
   * Kiosk reset, as one transaction: the widget goes at once (reason
   * `reset`), its session's delete goes to the outbox, what the `wipe`
   * attribute lists is wiped, then the `start` slot shows or, with
   * `auto-start`, a fresh session is started (retried until it works).
   * A reset or start already under way is joined, not repeated.
   */
  reset(): Promise<void> {
    return this.#resetOnce('reset');
  }

  /**
   * Asks the proxy for a new session (`POST {proxy}`) and mounts it. Does
   * nothing while a session is starting or active. Rejects if the proxy
   * cannot give one (the guard is then in state `error` and has fired
   * `konpro-guard-error`).
   */
  start(): Promise<void> {
    return this.#startOnce(false);
  }

  #startOnce(retrying: boolean): Promise<void> {
    this.#starting ??= this.#start(retrying).finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(retrying: boolean): Promise<void> {
    if (this.#session) return this.#session.ready;
    const proxy = this.#proxyUrl();
    if (!proxy) {
      this.#go({ type: 'failed' });
      throw new Error('konpro-widget-guard: start() needs the proxy attribute (the URL of your backend proxy)');
    }
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
      this.#error('start-failed', `could not start a session: ${message}${retrying ? ' (retrying)' : ''}`, false);
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
    this.sessionId = created.sessionId;
    this.#applySessionId();
    // (The compiler narrowed #session to undefined above; #applySessionId set it.)
    await (this.#session as HeldSession | undefined)?.ready;
  }

  /** Starts a session, retrying with backoff while auto-start holds and the guard is in the page. */
  #autoStart(): Promise<void> {
    this.#autoStartRun ??= (async () => {
      for (let attempt = 1; this.autoStart && this.isConnected && !this.#session; attempt++) {
        try {
          await this.#startOnce(true);
          return;
        } catch {
          if (!this.#proxyUrl(true)) return; // misconfigured: retrying cannot help (reported already)
          await sleep(retryDelay(attempt, undefined, { baseMs: 1_000, capMs: 30_000 }), this.#connected?.signal);
        }
      }
    })().finally(() => {
      this.#autoStartRun = undefined;
    });
    return this.#autoStartRun;
  }

  #resetOnce(reason: 'reset' | 'idle'): Promise<void> {
    this.#resetting ??= this.#reset(reason).finally(() => {
      this.#resetting = undefined;
    });
    return this.#resetting;
  }

  async #reset(reason: 'reset' | 'idle'): Promise<void> {
    // A start under way brings the fresh session a reset would: join it.
    if (this.#starting && !this.#session) return this.#starting.catch(() => undefined);
    const focusWasHere = this.contains(document.activeElement) || document.activeElement === this;
    const live = this.#session?.id;
    if (live !== undefined) {
      this.#end(reason);
      void this.#deleteSession(live);
    }
    // Wipe for the last session even when it ended earlier (expired, revoked, logged out).
    const sessionId = sessionToDelete(this.#life);
    if (sessionId !== undefined) this.#started.delete(sessionId);
    this.sessionId = null;
    this.#go({ type: 'reset' });
    const start = this.renderRoot.querySelector<HTMLElement>('.start');
    if (focusWasHere && start) activityHub().quietly(() => start.focus());
    if (sessionId !== undefined) {
      const { list, errors } = parseWipe(this.wipe);
      for (const message of errors) this.#error('invalid-wipe', message, true);
      await wipe(list, sessionId);
    }
    if (this.autoStart) await this.#autoStart();
  }

  #applySessionId(): void {
    if (!this.isConnected) return;
    const id = this.sessionId;
    // Held already, or ended here (the element was moved, or auto-start toggled): nothing new to refuse or report.
    if (isSettled(this.#life, id)) return;
    if (this.#session) {
      this.#release(this.#session);
      this.#go({ type: 'released' });
    }
    if (id === null || id === '') {
      this.#go({ type: 'unset' });
      // (A reset starts the next session itself, after its wipe.)
      if (this.autoStart && !this.#resetting && this.#life.phase === Phase.Idle) void this.#autoStart();
      return;
    }
    if (!isValidSessionId(id)) {
      this.#go({ type: 'failed' });
      this.#error('invalid-session-id', describeInvalidSessionId(id), false);
      return;
    }
    this.#mount(id);
  }

  #mount(id: string): void {
    const session: HeldSession = { id, scope: new AbortController(), stamped: [], ready: Promise.resolve() };
    this.#session = session;
    this.#go({ type: 'mount', sessionId: id });
    session.ready = this.#activate(session);
  }

  async #activate(session: HeldSession): Promise<void> {
    const { signal } = session.scope;
    // Never synchronously inside the update that set session-id: a listener of the refusal may set another.
    await Promise.resolve();
    const refused = this.#ended.knows(session.id) || (await this.#ended.has(session.id));
    if (signal.aborted) return;
    if (refused) {
      this.#end('invalid', false);
      return;
    }
    await this.updateComplete;
    if (signal.aborted) return;

    const widget = this.#widgetLocation(session.id);
    if ('error' in widget) {
      this.#release(session);
      this.#go({ type: 'failed' });
      this.#error(widget.code, widget.error, false);
      return;
    }
    // Watch first: the widget's very first requests (an embed's, as it is stamped) are read too.
    this.#watch(session, widget.origin);
    // The session may already be over (an expiry in the past ends it right in #watch).
    if (signal.aborted) return;
    if (widget.url) {
      const frame = document.createElement('iframe');
      frame.setAttribute('part', 'frame');
      frame.allow = 'camera; microphone; autoplay';
      frame.title = this.#strings().frameTitle;
      frame.src = widget.url;
      session.frame = frame;
      this.renderRoot.querySelector('.widget')!.append(frame);
    } else {
      this.#stampTemplates(session);
      if (this.#defaultSlotted().length === 0) {
        this.#error('no-widget', 'neither widget-src nor widget markup in the default slot: nothing to show', true);
      }
    }
    this.#go({ type: 'active' });
    dispatch(this, 'konpro-session-start', { sessionId: session.id });
  }

  /** Installs every watch of an active session; all go with `session.scope`. */
  #watch(session: HeldSession, origin: string | undefined): void {
    const { signal } = session.scope;
    watchResponses(
      {
        prefixes: this.#watchPrefixes(),
        onResponse: (classification, url, body) => this.#onResponse(session, classification, url, body),
      },
      signal,
    );
    if (origin) {
      watchFrameMessages(
        {
          origin,
          sessionId: session.id,
          frames: () => this.#widgetWindows(session),
          onTerminated: () => this.#session === session && this.#end('terminated'),
          onMessage: (data) => data.type === 'konpro-widget-activity' && session.idle?.activity(),
        },
        signal,
      );
    }
    const started = this.#started.get(session.id);
    if (started) this.#setExpiry(started.expiresAt, 'start');
    else if (this.expiresAt !== null && (this.#expiresAtFor ?? session.id) === session.id) {
      this.#expiresAtFor = session.id;
      this.#setExpiry(this.expiresAt, 'property');
    }
    session.clock = watchClock(
      {
        deadline: () => session.expiresAt,
        onDeadline: () => this.#session === session && this.#end('expired'),
        onWake: () => {
          void this.#recheckEnded();
          session.status?.checkNow();
        },
      },
      signal,
    );
    if (signal.aborted) return; // ended by the clock's first check (expired already)
    this.#restartStatusChecks(session);
    this.#restartIdle(session);
  }

  /** Watches for inactivity (kiosks) while `idle-timeout` is set. */
  #restartIdle(session: HeldSession): void {
    if (session.scope.signal.aborted) return;
    session.idleScope?.abort();
    session.idle = undefined;
    this.#hideWarning(false);
    const seconds = this.idleTimeout === null ? 0 : this.#number(this.idleTimeout, 0, 'idle-timeout');
    if (seconds <= 0) return;
    const warning = Math.min(this.#number(this.idleWarning, DEFAULT_IDLE_WARNING, 'idle-warning'), seconds);
    const scope = childScope(session.scope.signal);
    session.idleScope = scope;
    session.idle = watchIdle(
      {
        timeoutMs: seconds * 1000,
        warningMs: warning * 1000,
        onWarning: (secondsLeft) => this.#session === session && this.#showWarning(secondsLeft),
        onCancel: () => this.#hideWarning(true),
        onIdle: () => this.#session === session && void this.#resetOnce('idle'),
      },
      scope.signal,
    );
    // Focus moving into the widget frame is activity the page cannot otherwise see.
    window.addEventListener(
      'blur',
      () => session.frame && this.shadowRoot?.activeElement === session.frame && session.idle?.activity(),
      { signal: scope.signal },
    );
  }

  #showWarning(secondsLeft: number): void {
    const first = this.#secondsLeft === undefined;
    this.#secondsLeft = secondsLeft;
    this.requestUpdate();
    dispatch(this, 'konpro-idle-warning', { secondsLeft });
    if (!first) return;
    this.#announce(this.#strings().idleAnnouncement(secondsLeft));
    this.#focusBeforeWarning = deepActiveElement();
    void this.updateComplete.then(() => {
      const button = this.renderRoot.querySelector<HTMLElement>('.still-here');
      if (this.#secondsLeft !== undefined && button) activityHub().quietly(() => button.focus());
    });
  }

  /** Takes the countdown away; `restoreFocus`: give focus back to where it was before. */
  #hideWarning(restoreFocus: boolean): void {
    if (this.#secondsLeft === undefined) return;
    const button = this.renderRoot.querySelector('.still-here');
    const focusOnButton = button !== null && deepActiveElement() === button;
    this.#secondsLeft = undefined;
    this.requestUpdate();
    const previous = this.#focusBeforeWarning;
    this.#focusBeforeWarning = null;
    if (restoreFocus && focusOnButton && previous?.isConnected) activityHub().quietly(() => previous.focus());
  }

  #strings(): GuardStrings {
    return { ...DEFAULT_STRINGS, ...this.strings };
  }

  #restartStatusChecks(session: HeldSession): void {
    if (session.scope.signal.aborted) return;
    const proxy = this.#proxyUrl(true);
    const seconds = this.#number(this.checkInterval, DEFAULT_CHECK_INTERVAL, 'check-interval');
    session.statusScope?.abort();
    if (!proxy || seconds <= 0) return;
    const scope = childScope(session.scope.signal);
    session.statusScope = scope;
    session.status = watchStatus(
      {
        url: sessionResourceUrl(proxy, session.id),
        intervalMs: seconds * 1000,
        onAnswer: (classification) => this.#onStatus(session, classification),
      },
      scope.signal,
    );
  }

  #onStatus(session: HeldSession, classification: Classification): void {
    if (this.#session !== session) return;
    if (classification.sessionId !== undefined && classification.sessionId !== session.id) return;
    if (classification.verdict === Verdict.Ended) this.#end('terminated');
    else if (classification.verdict === Verdict.Alive && classification.expiresAt)
      this.#setExpiry(classification.expiresAt, 'status');
  }

  #onResponse(session: HeldSession, classification: Classification, url: URL, body: unknown): void {
    if (this.#session !== session) return;
    if (classification.verdict !== Verdict.Ended && classification.verdict !== Verdict.Alive) return;
    const proxy = this.#proxyUrl(true);
    const named = classification.sessionId ?? sessionIdInUrl(url, proxy ? [new URL(proxy)] : []);
    // A response about another session says nothing about this one.
    if (named !== undefined && named !== session.id) return;
    // Nor does a bare 404 page that names no session (a CDN or load balancer during a deploy):
    // an unnamed "gone" must at least be a JSON answer of the API.
    if (named === undefined && !isRecord(body)) return;
    if (classification.verdict === Verdict.Ended) this.#end('terminated');
    else if (named !== undefined && classification.expiresAt) this.#setExpiry(classification.expiresAt, 'status');
  }

  #setExpiry(value: string | number | Date, source: string): void {
    const session = this.#session;
    if (!session) return;
    const time = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
    if (!Number.isFinite(time)) {
      this.#error('invalid-expires-at', `expires-at from ${source} is not a date: ${String(value)}`, true);
      return;
    }
    session.expiresAt = time;
    session.clock?.rearm();
    session.clock?.check();
  }

  /** Another tab may have ended the session while this page was hidden or cached. */
  async #recheckEnded(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    if (await this.#ended.has(session.id)) {
      if (this.#session === session) this.#end('other-tab', false);
    } else {
      session.clock?.check();
    }
  }

  /**
   * Ends the held session: tears the widget down synchronously, remembers the
   * id as ended (here at once, in storage and other tabs right after), shows
   * the terminated panel, and fires `konpro-session-end`.
   */
  #end(reason: EndReason, broadcast = true): void {
    const session = this.#session;
    if (!session) return;
    // Other tabs first: the message leaves before this tab's teardown keeps the browser busy
    // (removing a frame is work for the browser process too, and would queue in front of it).
    if (broadcast) this.#channel.post({ kind: 'ended', sessionId: session.id, reason, endedAt: Date.now() });
    const focusWasInWidget = this.#focusIsInWidget(session) || this.#secondsLeft !== undefined;
    this.#hideWarning(false);
    this.#release(session);
    this.#removeWidgetMarkup();
    void this.#ended.add(session.id, reason);
    if (broadcast) {
      // Other guards of this page showing the session end too.
      for (const guard of connectedGuards)
        if (guard !== this && guard.#session?.id === session.id) guard.#end('other-tab', false);
    }
    this.#go({ type: reason === 'logout' ? 'logout' : reason === 'invalid' ? 'refused' : 'ended' });
    this.#announce(this.#strings().endedAnnouncement);
    const panel = this.renderRoot.querySelector<HTMLElement>('.terminated');
    if (focusWasInWidget && panel) activityHub().quietly(() => panel.focus());
    dispatch(this, 'konpro-session-end', { sessionId: session.id, reason });
  }

  /** Takes the session's widget and watches away, without ending the session. */
  #release(session: HeldSession): void {
    session.scope.abort();
    if (session.frame) {
      // Navigating away first stops camera and microphone even if removal is delayed.
      session.frame.src = 'about:blank';
      session.frame.remove();
      session.frame = undefined;
    }
    for (const node of session.stamped.splice(0)) {
      stopMedia(node);
      node.parentNode?.removeChild(node);
    }
    if (this.#session === session) this.#session = undefined;
  }

  #deleteSession(sessionId: string): Promise<DeleteOutcome> {
    const existing = this.#logouts.get(sessionId);
    if (existing) return existing;
    const proxy = this.#proxyUrl();
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
    const guards = [...connectedGuards];
    const reporter = guards.find((guard) => guard.#logouts.has(detail.sessionId)) ?? guards[0];
    if (reporter !== this) return;
    if (detail.outcome === 'failed') this.#logouts.delete(detail.sessionId);
    dispatch(this, 'konpro-delete', detail);
  }

  #onDocumentClick(event: Event): void {
    const selector = this.logoutTrigger?.trim();
    // Nothing to log out of: no session, none starting, none before.
    if (!selector || (sessionToDelete(this.#life) === undefined && !this.#life.creating)) return;
    for (const target of event.composedPath()) {
      if (!(target instanceof Element)) continue;
      let matches: boolean;
      try {
        matches = target.matches(selector);
      } catch {
        this.#error('invalid-logout-trigger', `logout-trigger is not a valid CSS selector: ${selector}`, true);
        return;
      }
      if (matches) {
        void this.logout();
        return;
      }
    }
  }

  /** Where the widget comes from: a frame URL (and the origin to trust), or the default slot. */
  #widgetLocation(sessionId: string): { url?: string; origin?: string } | { error: string; code: GuardErrorCode } {
    // The host's own choice wins: its widget-src, then its widget markup (or template) in the
    // default slot; only then the widget URL the proxy gave with a started session.
    const hostMarkup = [...this.children].some((el) => el.slot === '');
    const template = this.widgetSrc ?? (hostMarkup ? undefined : this.#started.get(sessionId)?.widgetUrl);
    let origin: string | undefined;
    if (this.widgetOrigin) {
      origin = parseOrigin(this.widgetOrigin);
      if (!origin)
        return { code: 'invalid-widget-origin', error: `widget-origin is not an origin: ${this.widgetOrigin}` };
    }
    if (!template) return origin ? { origin } : {};
    let url: URL;
    try {
      // Session ids are validated: they cannot add a path, query or scheme.
      url = new URL(template.replaceAll('{session_id}', sessionId), document.baseURI);
    } catch {
      return { code: 'invalid-widget-src', error: `widget-src is not a URL: ${template}` };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      return { code: 'invalid-widget-src', error: `widget-src must be an http(s) URL, not ${url.protocol}` };
    }
    return { url: url.href, origin: origin ?? url.origin };
  }

  #widgetWindows(session: HeldSession): Window[] {
    const frames = session.frame
      ? [session.frame]
      : this.#defaultSlotted().flatMap((el) =>
          el instanceof HTMLIFrameElement ? [el] : [...el.querySelectorAll('iframe')],
        );
    return frames.flatMap((frame) => (frame.contentWindow ? [frame.contentWindow] : []));
  }

  /** Elements the host put in the default slot, templates excluded. */
  #defaultSlotted(): Element[] {
    return [...this.children].filter((el) => el.slot === '' && !(el instanceof HTMLTemplateElement));
  }

  #stampTemplates(session: HeldSession): void {
    for (const template of [...this.children]) {
      if (!(template instanceof HTMLTemplateElement) || template.slot !== '') continue;
      const fragment = template.content.cloneNode(true) as DocumentFragment;
      for (const el of fragment.querySelectorAll('*')) {
        for (const attribute of [...el.attributes]) {
          if (attribute.value.includes('{session_id}'))
            attribute.value = attribute.value.replaceAll('{session_id}', session.id);
        }
      }
      session.stamped.push(...fragment.childNodes);
      template.after(fragment);
    }
  }

  /** Removes the host's widget markup from the default slot (templates stay, for the next session). */
  #removeWidgetMarkup(): void {
    for (const el of this.#defaultSlotted()) {
      stopMedia(el);
      el.remove();
    }
  }

  #focusIsInWidget(session: HeldSession): boolean {
    const active = document.activeElement;
    if (!active) return false;
    if (active === this) return session.frame !== undefined && this.shadowRoot?.activeElement === session.frame;
    return (
      this.#defaultSlotted().some((el) => el.contains(active)) || session.stamped.some((node) => node.contains(active))
    );
  }

  /** Absolute proxy collection URL, or undefined (reported) when missing or unusable. */
  #proxyUrl(quiet = false): string | undefined {
    const value = this.proxy?.trim();
    if (!value) {
      if (!quiet)
        this.#error('missing-proxy', 'the proxy attribute is not set: no session can be started or deleted', true);
      return undefined;
    }
    let url: URL;
    try {
      url = new URL(value, document.baseURI);
    } catch {
      this.#error('invalid-proxy', `proxy is not a URL: ${value}`, true);
      return undefined;
    }
    if (url.origin !== location.origin) {
      // Credentials are same-origin: a proxy elsewhere would not know the user.
      this.#error('invalid-proxy', `proxy must be on this page's origin (${location.origin}), not ${url.origin}`, true);
      return undefined;
    }
    url.hash = '';
    return url.href;
  }

  #watchPrefixes(): string[] {
    const proxy = this.#proxyUrl(true);
    if (this.watch === null || this.watch.trim() === '')
      return proxy ? [VENDOR_API_PREFIX, proxy] : [VENDOR_API_PREFIX];
    const prefixes: string[] = [];
    for (const part of this.watch.trim().split(/\s+/)) {
      try {
        prefixes.push(new URL(part, document.baseURI).href);
      } catch {
        this.#error('invalid-watch', `watch has an entry that is not a URL: ${part}`, true);
      }
    }
    return prefixes;
  }

  #number(value: number | null, fallback: number, attribute: string): number {
    if (value === null) return fallback;
    if (!Number.isFinite(value) || value < 0) {
      this.#error(
        'invalid-number',
        `${attribute} must be a number of seconds ≥ 0, got ${String(value)}; using ${fallback}`,
        true,
      );
      return fallback;
    }
    return value;
  }

  /** Moves the lifecycle on and reflects the state it shows. */
  #go(event: LifecycleEvent): void {
    this.#life = transition(this.#life, event);
    const state = this.state;
    if (this.isConnected && this.getAttribute('state') !== state) this.setAttribute('state', state);
  }

  #announce(text: string): void {
    if (!this.#announcer) return;
    // Cleared first so the same text is announced again for a later session.
    this.#announcer.textContent = '';
    this.#announcer.textContent = text;
  }

  /** Reports a problem as an event; `once`: the same message only the first time. */
  #error(code: GuardErrorCode, message: string, once: boolean): void {
    const key = `${code}:${message}`;
    if (once && this.#reported.has(key)) return;
    this.#reported.add(key);
    dispatch(this, 'konpro-guard-error', { code, message });
  }
}

/** Guards in the page (in shadow roots too), in the order they connected. */
const connectedGuards = new Set<KonproWidgetGuard>();

const NO_SESSION: DeleteOutcome = { sessionId: '', outcome: 'already-gone', attempts: 0 };

/** The focused element, looking inside open shadow roots. */
function deepActiveElement(): HTMLElement | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active instanceof HTMLElement ? active : null;
}

function parseOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    const origin = url.origin;
    return origin !== 'null' && value.replace(/\/$/, '') === origin ? origin : undefined;
  } catch {
    return undefined;
  }
}

/** Stops what a removed piece of widget markup may still be playing or capturing. */
function stopMedia(node: Node): void {
  if (!(node instanceof Element)) return;
  const elements = [node, ...node.querySelectorAll('iframe, video, audio')];
  for (const el of elements) {
    if (el instanceof HTMLIFrameElement) el.src = 'about:blank';
    if (el instanceof HTMLMediaElement) {
      el.pause();
      if (el.srcObject instanceof MediaStream) for (const track of el.srcObject.getTracks()) track.stop();
      el.srcObject = null;
    }
  }
}

/** A scope that ends with `parent`, or before it; ending it early leaves nothing on `parent`. */
function childScope(parent: AbortSignal): AbortController {
  const child = new AbortController();
  parent.addEventListener('abort', () => child.abort(), { once: true, signal: child.signal });
  return child;
}
