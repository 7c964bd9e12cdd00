/**
 * The kiosk's idle reset, as a controller of the guard: while a session is
 * active, times the inactivity of the device (the page's activity, idle.ts),
 * shows a visible, accessible countdown before the reset, which any activity
 * cancels, and moves focus to its button and back.
 *
 * The deadline is a wall-clock time compared with `Date.now()` on a
 * one-second tick and whenever the page becomes visible, so throttled timers
 * in hidden tabs and a machine that slept cannot stretch it: a deadline that
 * passed while asleep fires on wake.
 */
import { html, nothing, type ReactiveController, type TemplateResult } from 'lit';
import type { GuardConfig } from '../element/config.js';
import { dispatch } from '../element/events.js';
import type { GuardStrings } from '../element/strings.js';
import { activityHub } from './idle.js';
import { childScope } from '../platform/async.js';
import { onPage } from '../platform/page-lifecycle.js';

const DEFAULT_IDLE_WARNING = 10;

export class IdleCountdown implements ReactiveController {
  readonly #config: GuardConfig;
  readonly #host: GuardConfig['host'];
  /** The watch's scope, while one runs. */
  #scope: AbortController | undefined;
  /** Seconds left in the countdown, while it shows. */
  #secondsLeft: number | undefined;
  /** Where focus was before the countdown took it, to give it back. */
  #focusBefore: HTMLElement | null = null;

  constructor(config: GuardConfig) {
    this.#config = config;
    this.#host = config.host;
    config.host.addController(this);
  }

  hostDisconnected(): void {
    this.stop();
  }

  /** Whether the countdown shows. */
  get showing(): boolean {
    return this.#secondsLeft !== undefined;
  }

  /**
   * (Re)starts the watch for the session whose scope is `signal`, with the host's `idle-timeout`
   * (none or 0: off) and `idle-warning`; `onIdle` when the time is up. The clock starts at the later
   * of now and the last activity. `frameFocused`: whether focus sits in the widget frame (activity
   * the page cannot otherwise see).
   */
  restart(signal: AbortSignal, frameFocused: () => boolean, onIdle: () => void): void {
    if (signal.aborted) return;
    this.stop();
    const config = this.#config;
    const { idleTimeout, idleWarning } = this.#host;
    const timeout = idleTimeout === null ? 0 : config.seconds(idleTimeout, 0, 'idle-timeout');
    if (timeout <= 0) return;
    // (Read only now: an idle-warning without an idle-timeout is not reported.)
    const warning = Math.min(config.seconds(idleWarning, DEFAULT_IDLE_WARNING, 'idle-warning'), timeout);
    const scope = (this.#scope = childScope(signal)).signal;
    const hub = activityHub();
    let last = Math.max(Date.now(), hub.lastActivity);
    let fired = false;
    const check = () => {
      if (scope.aborted || fired) return;
      const left = last + timeout * 1000 - Date.now();
      if (left <= 0) {
        fired = true;
        onIdle();
      } else if (left <= warning * 1000) {
        const secondsLeft = Math.ceil(left / 1000);
        if (secondsLeft !== this.#secondsLeft) this.#show(secondsLeft);
      } else {
        this.hide(true); // activity during the countdown: it is over
      }
    };
    hub.subscribe((at) => {
      if (at > last) last = at;
      if (this.showing) check();
    }, scope);
    const tick = window.setInterval(check, 1_000);
    scope.addEventListener('abort', () => window.clearInterval(tick), { once: true });
    onPage({ visible: check }, scope);
    // Focus moving into the widget frame is activity the page cannot otherwise see.
    window.addEventListener('blur', () => frameFocused() && this.activity(), { signal: scope });
  }

  /** Activity the guard itself saw (its frame, its button), while the watch runs. */
  activity(): void {
    if (this.#scope) activityHub().report();
  }

  /** Ends the watch and takes the countdown away (focus stays where it is). */
  stop(): void {
    this.#scope?.abort();
    this.#scope = undefined;
    this.hide(false);
  }

  /** Takes the countdown away; `restoreFocus`: give focus back to where it was before. */
  hide(restoreFocus: boolean): void {
    if (this.#secondsLeft === undefined) return;
    const button = this.#host.renderRoot.querySelector('.still-here');
    const focusOnButton = button !== null && deepActiveElement() === button;
    this.#secondsLeft = undefined;
    this.#host.requestUpdate();
    const previous = this.#focusBefore;
    this.#focusBefore = null;
    if (restoreFocus && focusOnButton && previous?.isConnected) activityHub().quietly(() => previous.focus());
  }

  render(strings: GuardStrings): TemplateResult | typeof nothing {
    if (this.#secondsLeft === undefined) return nothing;
    return html`
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
          <button class="still-here" type="button" @click=${() => this.activity()}>${strings.stillHere}</button>
        </div>
      </div>
    `;
  }

  #show(secondsLeft: number): void {
    const first = this.#secondsLeft === undefined;
    this.#secondsLeft = secondsLeft;
    this.#host.requestUpdate();
    dispatch(this.#host, 'konpro-idle-warning', { secondsLeft });
    if (!first) return;
    this.#config.announce(this.#config.strings().idleAnnouncement(secondsLeft));
    this.#focusBefore = deepActiveElement();
    void this.#host.updateComplete.then(() => {
      const button = this.#host.renderRoot.querySelector<HTMLElement>('.still-here');
      if (this.#secondsLeft !== undefined && button) activityHub().quietly(() => button.focus());
    });
  }
}

/** The focused element, looking inside open shadow roots. */
function deepActiveElement(): HTMLElement | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active instanceof HTMLElement ? active : null;
}
