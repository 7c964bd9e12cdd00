import { html, LitElement, type PropertyDeclarations, type PropertyValues } from 'lit';
import { GuardState } from '../session/lifecycle.js';
import { SessionController } from '../session/session-controller.js';
import { GuardConfig, VENDOR_API_PREFIX } from './config.js';
import type { DeleteOutcome } from './events.js';
import type { GuardStrings } from './strings.js';
import { styles } from './konpro-widget-guard.styles.js';

export { GuardState, VENDOR_API_PREFIX };

/**
 * Numbers from attributes: anything unreadable becomes NaN, reported once and replaced by the default.
 * (Only from the attribute: these properties are not reflected, so Lit never writes one back.)
 */
const numberAttribute = (value: string | null) => (value === null || value.trim() === '' ? null : Number(value));

/**
 * `<konpro-widget-guard>` wraps a Konpro AI avatar widget and ends it the
 * moment its session ends: on logout, when the vendor says so, at expiry, in
 * every tab, and on idle kiosks. See the README for the full contract.
 *
 * @summary Ends a Konpro avatar widget the moment its session ends.
 *
 * @fires konpro-session-start - `{sessionId}`: a session is mounted and live.
 * @fires konpro-session-end - `{sessionId, reason}`: the widget is gone; reason is `logout`, `terminated`, `expired`, `other-tab`, `idle`, `reset`, `invalid` or `revoked` (the site's server ended it, heard through `push`).
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
    push: { type: Boolean, reflect: true },
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
   * Follow the proxy's event stream (`GET {proxy}/events`), so that a session the site's server ends
   * (on any device) is torn down at once, with reason `revoked`. One stream per browser, however many
   * tabs; a proxy without the route means status checks only (reported once as `push-unavailable`).
   */
  declare push: boolean;
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

  readonly #config = new GuardConfig(this);
  /** The session, and every concern that lives with it (widget DOM, watches, idle countdown, page guards). */
  readonly #session = new SessionController(this, this.#config);

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
    this.push = false;
    this.expiresAt = null;
    this.wipe = null;
    this.strings = {};
  }

  /** `idle` · `starting` · `active` · `terminated` · `error`. Reflected to the `state` attribute; read-only. */
  get state(): GuardState {
    return this.#session.state;
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
    this.setAttribute('state', this.state);
    // Reconnected after a move: the first update's willUpdate will not run again.
    if (this.hasUpdated) this.#session.apply();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    this.#session.propertiesChanged(changed, !this.hasUpdated);
  }

  protected override render() {
    const strings = this.#config.strings();
    return html`
      <div class="widget"><slot></slot></div>
      <div class="panel start" tabindex="-1"><slot name="start"></slot></div>
      <div class="panel terminated" part="terminated" tabindex="-1">
        <slot name="terminated"><p>${strings.ended}</p></slot>
      </div>
      <div class="panel error" role="alert">
        <slot name="error"><p>${strings.startFailed}</p></slot>
      </div>
      ${this.#session.idle.render(strings)}
      <div class="visually-hidden" role="status" aria-live="polite" aria-atomic="true"></div>
    `;
  }

  /**
   * Ends the session: the widget is torn down synchronously, before any
   * network I/O; then the proxy deletes the session through the persistent
   * outbox. Resolves with the first settlement of that delete.
   */
  logout(): Promise<DeleteOutcome> {
    return this.#session.logout();
  }

  /**
   * Kiosk reset, as one transaction: the widget goes at once (reason
   * `reset`), its session's delete goes to the outbox, what the `wipe`
   * attribute lists is wiped, then the `start` slot shows or, with
   * `auto-start`, a fresh session is started (retried until it works).
   * A reset or start already under way is joined, not repeated.
   */
  reset(): Promise<void> {
    return this.#session.reset();
  }

  /**
   * Asks the proxy for a new session (`POST {proxy}`) and mounts it. Does
   * nothing while a session is starting or active. Rejects if the proxy
   * cannot give one (the guard is then in state `error` and has fired
   * `konpro-guard-error`).
   */
  start(): Promise<void> {
    return this.#session.start();
  }
}
