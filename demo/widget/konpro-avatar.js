// @ts-check
/**
 * `<konpro-avatar session-id="...">`: the simulated Konpro avatar widget.
 * Used in-page through `embed.js` and inside the iframe page `widget.html`.
 *
 * It polls its session every `poll-interval` seconds (and after each
 * message), so a revoked session is noticed within seconds. Once the runtime
 * answers "session terminated" or "expired" it stops for good: microphone
 * tracks stopped, controls disabled, an explanation shown, and a
 * `konpro-avatar-ended` event fired (the iframe page relays it to its parent).
 *
 * Attributes: `session-id`; `api-base` (vendor base URL, default: two levels
 * above this script, i.e. `{mount}/`); `poll-interval` (seconds, default 2).
 * Reflects `state` (`idle` · `connecting` · `active` · `ended`) and `mic`
 * (`off` · `starting` · `live` · `blocked` · `unavailable`).
 *
 * @fires konpro-avatar-ready - `{sessionId, expiresAt}` when the session answered
 * @fires konpro-avatar-ended - `{sessionId, code, message}` when the session is gone for good
 */
import { AvatarView } from './avatar-view.js';
import { Microphone } from './microphone.js';
import { isSessionId, RuntimeClient } from './runtime-client.js';

/** What the widget sends for a recording; the simulator answers it (there is no speech recognition). */
const VOICE_MESSAGE = '[voice message]';
const DEFAULT_API_BASE = new URL('../', import.meta.url).href;

/** @type {Record<string, [string, string]>} */
const ENDINGS = {
  SESSION_TERMINATED: [
    'Session ended',
    'This session was ended and can no longer be used. Start a new session to talk again.',
  ],
  SESSION_EXPIRED: ['Session expired', 'This session reached its time limit. Start a new session to talk again.'],
  INVALID_SESSION_TOKEN: ['Session not valid', 'This session does not exist or is no longer valid.'],
};

/** @typedef {'idle' | 'connecting' | 'active' | 'ended'} AvatarState */

export class KonproAvatar extends HTMLElement {
  static observedAttributes = ['session-id', 'api-base', 'poll-interval'];

  /** @type {AvatarView | null} */
  #view = null;
  /** @type {Microphone} */
  #mic;
  /** @type {RuntimeClient | null} */
  #client = null;
  /** Aborts requests in flight when the element leaves the page or changes session. */
  #run = new AbortController();
  /** Bumped on every stop: an answer for an older run is dropped. */
  #generation = 0;
  #pollTimer = 0;
  #clockTimer = 0;
  /** Server `expires_at`, in server-clock milliseconds. */
  #expiresAt = Number.NaN;
  /** Server clock minus local clock. */
  #skew = 0;
  /** @type {AvatarState} */
  #state = 'idle';

  constructor() {
    super();
    this.#mic = new Microphone(
      (level) => this.#view?.setLevel(level),
      () => this.#setMic('off'),
    );
  }

  /** @returns {string} */
  get sessionId() {
    return this.getAttribute('session-id') ?? '';
  }

  set sessionId(value) {
    this.setAttribute('session-id', value);
  }

  /** @returns {AvatarState} */
  get state() {
    return this.#state;
  }

  connectedCallback() {
    if (!this.#view) {
      const root = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
      this.#view = new AvatarView(root, {
        onSend: (text) => void this.#send(text, text),
        onMicToggle: () => void this.#toggleMic(),
      });
    }
    this.#start();
  }

  disconnectedCallback() {
    // Out of the document means out of service: no polling, no microphone, no timers.
    this.#stop();
  }

  /**
   * @param {string} _name
   * @param {string | null} oldValue
   * @param {string | null} newValue
   */
  attributeChangedCallback(_name, oldValue, newValue) {
    if (oldValue === newValue || !this.isConnected || !this.#view) return;
    this.#stop();
    this.#start();
  }

  #start() {
    const view = /** @type {AvatarView} */ (this.#view);
    view.reset();
    this.#setMic('off');
    const id = this.sessionId;
    if (!isSessionId(id)) {
      this.#setState('idle');
      view.showEnded('No session', 'This widget has no valid session. Ask the site for a new one.', 'invalid');
      return;
    }
    this.#run = new AbortController();
    this.#client = new RuntimeClient(this.getAttribute('api-base') || DEFAULT_API_BASE, id);
    this.#setState('connecting');
    void this.#poll();
  }

  /**
   * @param {boolean} [abort] also abort requests in flight. Not when the
   * session ended on an answer: aborting would also cut off a guard that is
   * still reading that answer's body through its own clone.
   */
  #stop(abort = true) {
    this.#generation += 1;
    if (abort) this.#run.abort();
    clearTimeout(this.#pollTimer);
    clearInterval(this.#clockTimer);
    this.#clockTimer = 0;
    this.#mic.stop();
    this.#setMic('off');
    this.#view?.stop();
  }

  get #pollMs() {
    const seconds = Number(this.getAttribute('poll-interval') ?? 2);
    return Number.isFinite(seconds) && seconds > 0 ? Math.max(250, seconds * 1000) : 2000;
  }

  async #poll() {
    clearTimeout(this.#pollTimer);
    const { signal } = this.#run;
    const generation = this.#generation;
    const client = this.#client;
    if (!client || this.#state === 'ended') return;
    const result = await client.session(signal);
    if (generation !== this.#generation) return;
    const view = /** @type {AvatarView} */ (this.#view);
    if (result.kind === 'ended') return this.#end(result.code, result.message);
    if (result.kind === 'failed') {
      view.setNotice('Connection problem — retrying…');
    } else {
      view.setNotice(null);
      const session = result.value;
      this.#skew = Date.parse(session.server_time) - Date.now() || 0;
      this.#expiresAt = Date.parse(session.expires_at);
      if (this.#state === 'connecting') {
        this.#setState('active');
        view.setName(session.avatar.name);
        view.mode = 'idle';
        this.#clockTimer = window.setInterval(() => this.#tick(), 1000);
        this.#tick();
        this.dispatchEvent(
          new CustomEvent('konpro-avatar-ready', {
            bubbles: true,
            composed: true,
            detail: { sessionId: this.sessionId, expiresAt: session.expires_at },
          }),
        );
        void view.say(session.avatar.greeting);
      }
    }
    this.#pollTimer = window.setTimeout(() => void this.#poll(), this.#pollMs);
  }

  /** Updates the countdown; at `expires_at` asks the runtime at once instead of waiting for the next poll. */
  #tick() {
    const left = this.#expiresAt - (Date.now() + this.#skew);
    this.#view?.setTimeLeft(Number.isFinite(left) ? left : null);
    if (left <= 0) {
      clearInterval(this.#clockTimer);
      this.#clockTimer = 0;
      void this.#poll();
    }
  }

  /**
   * @param {string} text what the runtime gets
   * @param {string} shown what the captions show for the user
   */
  async #send(text, shown) {
    const view = /** @type {AvatarView} */ (this.#view);
    const client = this.#client;
    if (this.#state !== 'active' || !client) return;
    const { signal } = this.#run;
    const generation = this.#generation;
    view.showUser(shown);
    view.mode = 'thinking';
    const result = await client.send(text, signal);
    if (generation !== this.#generation) return;
    if (result.kind === 'ended') return this.#end(result.code, result.message);
    view.mode = this.#mic.live ? 'listening' : 'idle';
    if (result.kind === 'ok') {
      view.setNotice(null);
      void view.say(result.value.reply);
    } else {
      view.setNotice('Connection problem — retrying…');
      void view.say(
        result.status === 429
          ? 'I am getting a lot of messages right now. Please try again in a moment.'
          : 'Sorry, I could not reach the service. Please try again.',
      );
    }
    // A message is activity worth a fresh status: a revoked session shows at once.
    void this.#poll();
  }

  async #toggleMic() {
    const view = /** @type {AvatarView} */ (this.#view);
    if (this.#mic.live) {
      const spoke = this.#mic.heardVoice;
      this.#mic.stop();
      this.#setMic('off');
      if (view.mode === 'listening') view.mode = 'idle';
      if (spoke) await this.#send(VOICE_MESSAGE, '🎤 Voice message');
      return;
    }
    this.#setMic('starting');
    try {
      const started = await this.#mic.start();
      if (!started || this.#state !== 'active') return;
      this.#setMic('live');
      view.setNotice(null);
      view.mode = 'listening';
      view.setLevel(0);
    } catch (error) {
      this.#setMic(
        error instanceof DOMException && (error.name === 'NotAllowedError' || error.name === 'SecurityError')
          ? 'blocked'
          : 'unavailable',
      );
    }
  }

  /**
   * @param {string} code
   * @param {string} message
   */
  #end(code, message) {
    if (this.#state === 'ended') return;
    this.#stop(false);
    this.#setState('ended');
    const [title, detail] = ENDINGS[code] ?? ['Session ended', message];
    this.#view?.showEnded(title, detail);
    this.dispatchEvent(
      new CustomEvent('konpro-avatar-ended', {
        bubbles: true,
        composed: true,
        detail: { sessionId: this.sessionId, code, message },
      }),
    );
  }

  /** @param {AvatarState} state */
  #setState(state) {
    this.#state = state;
    this.setAttribute('state', state);
  }

  /** @param {import('./avatar-view.js').MicState} state */
  #setMic(state) {
    this.#view?.setMic(state);
    this.setAttribute('mic', state);
  }
}
