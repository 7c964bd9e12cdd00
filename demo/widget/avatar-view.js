// @ts-check
/**
 * The look of the simulated Konpro avatar widget, shared by the iframe page
 * and the in-page embed: an animated face, captions, a text box and a
 * microphone button, rendered into a shadow root. No network and no session
 * logic here: `<konpro-avatar>` drives it.
 */

/** @typedef {'connecting' | 'idle' | 'listening' | 'thinking' | 'speaking' | 'ended' | 'invalid'} AvatarMode */
/** @typedef {'off' | 'starting' | 'live' | 'blocked' | 'unavailable'} MicState */

/** @type {Record<AvatarMode, string>} */
const STATUS_TEXT = {
  connecting: 'Connecting…',
  idle: 'Live',
  listening: 'Listening…',
  thinking: 'Thinking…',
  speaking: 'Speaking',
  ended: 'Ended',
  invalid: 'No session',
};

/** Milliseconds per revealed word while the avatar "speaks". */
const WORD_MS = 120;

const STYLES = /* css */ `
:host {
  display: block;
  block-size: 540px;
  inline-size: 100%;
  font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
  color: #eef0ff;
  --accent: #7c6cff;
  --ok: #3ddc84;
  --warn: #f5b84c;
}
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: border-box; }
.widget {
  position: relative;
  display: flex;
  flex-direction: column;
  block-size: 100%;
  border-radius: var(--konpro-avatar-radius, 18px);
  overflow: hidden;
  background: radial-gradient(120% 85% at 50% 0%, #312e6e 0%, #17163a 55%, #0c0c1e 100%);
  box-shadow: 0 10px 30px rgb(0 0 0 / 0.25);
  --level: 0;
}
.bar {
  display: flex;
  align-items: center;
  gap: 0.5rem;
  padding: 0.65rem 1rem;
  font-size: 0.85rem;
  background: rgb(255 255 255 / 0.04);
  border-block-end: 1px solid rgb(255 255 255 / 0.07);
}
.presence { inline-size: 0.55rem; block-size: 0.55rem; border-radius: 50%; background: var(--warn); flex: none; }
.widget:not([data-mode='connecting'], [data-mode='ended'], [data-mode='invalid']) .presence {
  background: var(--ok);
  animation: pulse 2.4s ease-out infinite;
}
.widget[data-mode='ended'] .presence, .widget[data-mode='invalid'] .presence { background: #8a8aa3; }
.name { font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.status { color: rgb(238 240 255 / 0.65); white-space: nowrap; }
.timer { margin-inline-start: auto; font-variant-numeric: tabular-nums; color: rgb(238 240 255 / 0.75); white-space: nowrap; }
.stage {
  position: relative;
  flex: 1;
  min-block-size: 0;
  display: flex;
  flex-direction: column;
  align-items: center;
  justify-content: center;
  gap: 0.75rem;
  padding: 1rem;
  container-type: size;
}
.portrait { position: relative; inline-size: min(220px, 62cqi, 52cqb); aspect-ratio: 1; flex: none; }
.halo {
  position: absolute;
  inset: -8%;
  border-radius: 50%;
  background: radial-gradient(circle, rgb(124 108 255 / 0.45), transparent 66%);
  opacity: calc(0.35 + var(--level) * 0.65);
  transform: scale(calc(1 + var(--level) * 0.3));
  transition: transform 90ms linear, opacity 90ms linear;
}
.face { position: relative; display: block; inline-size: 100%; block-size: 100%; filter: drop-shadow(0 12px 18px rgb(0 0 0 / 0.35)); transition: filter 400ms; }
.head { animation: float 6s ease-in-out infinite; }
.eye, .mouth-open, .pupils { transform-box: fill-box; transform-origin: center; }
.eye { animation: blink 5.5s infinite; }
.pupils { transition: transform 300ms ease; }
.mouth-open { transform: scaleY(0); transition: transform 120ms; }
.smile { transition: opacity 120ms; }
.widget[data-mode='speaking'] .mouth-open { animation: talk 0.22s ease-in-out infinite alternate; }
.widget[data-mode='speaking'] .smile { opacity: 0; }
.widget[data-mode='thinking'] .pupils { transform: translate(3px, -4px); }
.widget[data-mode='listening'] .eye { transform: scale(1.12); animation: none; }
.widget[data-mode='ended'] .face, .widget[data-mode='invalid'] .face { filter: grayscale(1) brightness(0.55); }
.widget[data-mode='ended'] .eye, .widget[data-mode='invalid'] .eye { transform: scaleY(0.12); animation: none; }
.widget[data-mode='ended'] .head, .widget[data-mode='invalid'] .head { animation: none; }
.dots { position: absolute; inset-block-start: 4%; inset-inline-end: 0; display: none; gap: 4px; padding: 6px 9px; border-radius: 12px; background: rgb(255 255 255 / 0.92); }
.dots i { inline-size: 6px; block-size: 6px; border-radius: 50%; background: #4b4680; animation: dot 1s infinite; }
.dots i:nth-child(2) { animation-delay: 0.15s; }
.dots i:nth-child(3) { animation-delay: 0.3s; }
.widget[data-mode='thinking'] .dots { display: flex; }
.captions { inline-size: 100%; max-inline-size: 34rem; text-align: center; min-block-size: 4.6em; }
.you { margin: 0 0 0.35rem; font-size: 0.85rem; color: rgb(238 240 255 / 0.62); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.caption {
  margin: 0 auto;
  inline-size: fit-content;
  max-inline-size: 100%;
  max-block-size: 7.5em;
  overflow: auto;
  padding: 0.45rem 0.85rem;
  border-radius: 10px;
  background: rgb(0 0 0 / 0.38);
  font-size: 1.02rem;
  text-wrap: balance;
}
.caption:empty { visibility: hidden; }
.notice {
  position: absolute;
  inset-block-start: 0.6rem;
  inset-inline: 1rem;
  margin: 0;
  padding: 0.35rem 0.6rem;
  text-align: center;
  font-size: 0.8rem;
  color: #ffd58a;
  background: rgb(245 184 76 / 0.14);
  border: 1px solid rgb(245 184 76 / 0.4);
  border-radius: 8px;
}
.composer {
  display: flex;
  gap: 0.5rem;
  padding: 0.75rem;
  background: rgb(0 0 0 / 0.25);
  border-block-start: 1px solid rgb(255 255 255 / 0.07);
}
.text {
  flex: 1;
  min-inline-size: 0;
  font: inherit;
  color: inherit;
  background: rgb(255 255 255 / 0.08);
  border: 1px solid rgb(255 255 255 / 0.16);
  border-radius: 999px;
  padding: 0.6rem 1rem;
}
.text::placeholder { color: rgb(238 240 255 / 0.5); }
button {
  position: relative;
  flex: none;
  display: grid;
  place-items: center;
  inline-size: 2.75rem;
  block-size: 2.75rem;
  padding: 0;
  border: 0;
  border-radius: 50%;
  font: inherit;
  color: inherit;
  cursor: pointer;
  transition: background-color 150ms, transform 100ms;
}
button:active:not(:disabled) { transform: scale(0.94); }
.send { background: var(--accent); }
.mic { background: rgb(255 255 255 / 0.12); }
.mic[aria-pressed='true'] { background: #e5484d; }
.mic[data-state='blocked'], .mic[data-state='unavailable'] { background: rgb(229 72 77 / 0.25); }
button:disabled, .text:disabled { opacity: 0.45; cursor: not-allowed; }
:is(button, .text):focus-visible { outline: 2px solid #b9b0ff; outline-offset: 2px; }
svg.icon { inline-size: 1.25rem; block-size: 1.25rem; fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; }
.meter { position: absolute; inset-inline: 26%; inset-block-end: 6px; block-size: 3px; border-radius: 2px; background: rgb(255 255 255 / 0.3); overflow: hidden; display: none; }
.mic[aria-pressed='true'] .meter { display: block; }
.meter-fill { display: block; block-size: 100%; background: #fff; transform-origin: left; transform: scaleX(var(--level)); }
.ended { position: absolute; inset: 0; display: grid; place-items: center; padding: 1.5rem; background: rgb(9 9 22 / 0.74); backdrop-filter: blur(3px); }
.ended[hidden] { display: none; }
.ended-card { max-inline-size: 22rem; text-align: center; }
.ended-card svg { inline-size: 2.5rem; block-size: 2.5rem; stroke: #c9c5ff; }
.ended-title { margin: 0.5rem 0 0.3rem; font-size: 1.25rem; }
.ended-detail { margin: 0; color: rgb(238 240 255 / 0.75); }
.sr-only { position: absolute; inline-size: 1px; block-size: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
@keyframes blink { 0%, 95%, 100% { transform: scaleY(1); } 97% { transform: scaleY(0.1); } }
@keyframes talk { from { transform: scaleY(0.2); } to { transform: scaleY(1); } }
@keyframes float { 0%, 100% { transform: translateY(0); } 50% { transform: translateY(-2.5px); } }
@keyframes dot { 0%, 80%, 100% { opacity: 0.3; } 40% { opacity: 1; } }
@keyframes pulse { 0% { box-shadow: 0 0 0 0 rgb(61 220 132 / 0.55); } 70%, 100% { box-shadow: 0 0 0 6px rgb(61 220 132 / 0); } }
@media (prefers-reduced-motion: reduce) {
  .head, .eye, .dots i, .presence { animation: none !important; }
  .widget[data-mode='speaking'] .mouth-open { animation: none; transform: scaleY(0.6); }
}
`;

const FACE = /* svg */ `
<svg class="face" viewBox="0 0 200 200" aria-hidden="true" focusable="false">
  <defs>
    <radialGradient id="skin" cx="42%" cy="36%" r="72%">
      <stop offset="0" stop-color="#ffe3cc" />
      <stop offset="1" stop-color="#eaa985" />
    </radialGradient>
    <linearGradient id="hair" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#3b2a6b" />
      <stop offset="1" stop-color="#231845" />
    </linearGradient>
  </defs>
  <g class="head">
    <path d="M36 200c4-30 30-46 64-46s60 16 64 46z" fill="#5a4bd8" />
    <path d="M86 140h28v22c-8 6-20 6-28 0z" fill="#e9a582" />
    <ellipse cx="45" cy="100" rx="8" ry="12" fill="#eaa985" />
    <ellipse cx="155" cy="100" rx="8" ry="12" fill="#eaa985" />
    <ellipse cx="100" cy="96" rx="56" ry="62" fill="url(#skin)" />
    <path d="M42 98c-6-50 28-74 60-74s64 22 56 74c-6-22-22-38-48-40-22-2-52 8-68 40z" fill="url(#hair)" />
    <path d="M68 82q11-7 22-1M110 81q11-6 22 1" stroke="#3b2a6b" stroke-width="3.5" stroke-linecap="round" fill="none" />
    <g class="eye"><g class="pupils">
      <ellipse cx="79" cy="99" rx="6.5" ry="8.5" fill="#241b3f" />
      <circle cx="81.5" cy="96" r="2" fill="#fff" />
    </g></g>
    <g class="eye"><g class="pupils">
      <ellipse cx="121" cy="99" rx="6.5" ry="8.5" fill="#241b3f" />
      <circle cx="123.5" cy="96" r="2" fill="#fff" />
    </g></g>
    <circle cx="68" cy="118" r="8" fill="#ff8fa3" opacity="0.35" />
    <circle cx="132" cy="118" r="8" fill="#ff8fa3" opacity="0.35" />
    <path d="M100 102q-4 12 1 15" stroke="#c98466" stroke-width="2.5" stroke-linecap="round" fill="none" />
    <path class="smile" d="M86 129q14 10 28 0" stroke="#8a3b4a" stroke-width="3.5" stroke-linecap="round" fill="none" />
    <ellipse class="mouth-open" cx="100" cy="132" rx="11" ry="7" fill="#6b2236" />
  </g>
</svg>`;

const MIC_ICON = `<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/></svg>`;
const SEND_ICON = `<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M5 12h13M13 6l6 6-6 6"/></svg>`;
const ENDED_ICON = `<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><rect x="5" y="11" width="14" height="9" rx="2"/><path d="M8 11V8a4 4 0 0 1 8 0v3"/></svg>`;

const TEMPLATE = `
<section class="widget" data-mode="connecting" aria-label="Avatar">
  <header class="bar">
    <span class="presence" aria-hidden="true"></span>
    <span class="name">Konpro avatar</span>
    <span class="status">Connecting…</span>
    <span class="timer" hidden></span>
  </header>
  <div class="stage">
    <div class="portrait">
      <div class="halo" aria-hidden="true"></div>
      ${FACE}
      <div class="dots" aria-hidden="true"><i></i><i></i><i></i></div>
    </div>
    <div class="captions">
      <p class="you" hidden></p>
      <p class="caption" aria-hidden="true"></p>
      <p class="sr-only" aria-live="polite"></p>
    </div>
    <p class="notice" role="status" hidden></p>
  </div>
  <form class="composer">
    <button type="button" class="mic" aria-pressed="false" aria-label="Start microphone" data-state="off">
      ${MIC_ICON}<span class="meter" aria-hidden="true"><span class="meter-fill"></span></span>
    </button>
    <input class="text" name="text" type="text" autocomplete="off" maxlength="1000" placeholder="Type a message…" aria-label="Message to the avatar" />
    <button type="submit" class="send" aria-label="Send message">${SEND_ICON}</button>
  </form>
  <div class="ended" hidden>
    <div class="ended-card" role="alert">
      ${ENDED_ICON}
      <h2 class="ended-title">Session ended</h2>
      <p class="ended-detail"></p>
    </div>
  </div>
</section>`;

/** @type {CSSStyleSheet | null} */
let sheet = null;

/**
 * One constructed sheet shared by every widget of the page. Adopted rather
 * than a `<style>` element: a host page's Content-Security-Policy
 * (`style-src` without `'unsafe-inline'`) does not block it.
 */
function styles() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLES);
  }
  return sheet;
}

/**
 * @template {Element} E
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new (...args: never[]) => E} type
 * @returns {E}
 */
function part(root, selector, type) {
  const element = root.querySelector(selector);
  if (!(element instanceof type)) throw new Error(`avatar view: missing ${selector}`);
  return element;
}

export class AvatarView {
  #widget;
  #name;
  #status;
  #timer;
  #you;
  #caption;
  #spoken;
  #notice;
  #mic;
  #text;
  #send;
  #ended;
  #endedTitle;
  #endedDetail;
  /** @type {AvatarMode} */
  #mode = 'connecting';
  #sayTimer = 0;
  /** @type {(() => void) | null} */
  #sayDone = null;

  /**
   * @param {ShadowRoot} root
   * @param {{ onSend: (text: string) => void, onMicToggle: () => void }} handlers
   */
  constructor(root, handlers) {
    root.adoptedStyleSheets = [styles()];
    root.innerHTML = TEMPLATE;
    this.#widget = part(root, '.widget', HTMLElement);
    this.#name = part(root, '.name', HTMLElement);
    this.#status = part(root, '.status', HTMLElement);
    this.#timer = part(root, '.timer', HTMLElement);
    this.#you = part(root, '.you', HTMLElement);
    this.#caption = part(root, '.caption', HTMLElement);
    this.#spoken = part(root, '.sr-only', HTMLElement);
    this.#notice = part(root, '.notice', HTMLElement);
    this.#mic = part(root, '.mic', HTMLButtonElement);
    this.#text = part(root, '.text', HTMLInputElement);
    this.#send = part(root, '.send', HTMLButtonElement);
    this.#ended = part(root, '.ended', HTMLElement);
    this.#endedTitle = part(root, '.ended-title', HTMLElement);
    this.#endedDetail = part(root, '.ended-detail', HTMLElement);

    part(root, '.composer', HTMLFormElement).addEventListener('submit', (event) => {
      event.preventDefault();
      const text = this.#text.value.trim();
      if (text === '' || this.#send.disabled) return;
      this.#text.value = '';
      handlers.onSend(text);
    });
    this.#mic.addEventListener('click', () => handlers.onMicToggle());
  }

  /** @returns {AvatarMode} */
  get mode() {
    return this.#mode;
  }

  /** @param {AvatarMode} mode */
  set mode(mode) {
    this.#mode = mode;
    this.#widget.dataset.mode = mode;
    this.#status.textContent = STATUS_TEXT[mode];
    const usable = mode !== 'connecting' && mode !== 'ended' && mode !== 'invalid';
    this.#text.disabled = !usable;
    this.#mic.disabled = !usable;
    this.#send.disabled = !usable || mode === 'thinking';
  }

  /** @param {string} name */
  setName(name) {
    this.#name.textContent = name;
    this.#widget.setAttribute('aria-label', `Avatar ${name}`);
  }

  /** @param {number | null} ms time left in the session, `null` to hide the timer */
  setTimeLeft(ms) {
    this.#timer.hidden = ms === null;
    if (ms === null) return;
    const total = Math.max(0, Math.ceil(ms / 1000));
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const seconds = String(total % 60).padStart(2, '0');
    this.#timer.textContent =
      hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds} left` : `${minutes}:${seconds} left`;
  }

  /** @param {string | null} text a transient problem (not an ending), `null` to clear it */
  setNotice(text) {
    this.#notice.hidden = text === null;
    if (this.#notice.textContent !== (text ?? '')) this.#notice.textContent = text ?? '';
  }

  /** @param {string} text what the user said */
  showUser(text) {
    this.#you.hidden = false;
    this.#you.textContent = `You: ${text}`;
  }

  /**
   * The avatar speaks: the caption appears word by word while the mouth moves.
   * Screen readers get the whole sentence at once. Resolves when done (or
   * interrupted by another `say`, an ending or `stop`).
   * @param {string} text
   * @returns {Promise<void>}
   */
  say(text) {
    this.#stopSpeaking();
    this.#spoken.textContent = text;
    const words = text.split(/\s+/).filter(Boolean);
    if (this.#mode !== 'ended' && this.#mode !== 'invalid') this.mode = 'speaking';
    return new Promise((resolve) => {
      let shown = 0;
      this.#sayDone = () => {
        this.#sayDone = null;
        this.#caption.textContent = text;
        if (this.#mode === 'speaking') this.mode = 'idle';
        resolve();
      };
      const step = () => {
        shown += 1;
        this.#caption.textContent = words.slice(0, shown).join(' ');
        if (shown >= words.length) this.#sayTimer = window.setTimeout(() => this.#sayDone?.(), 350);
        else this.#sayTimer = window.setTimeout(step, WORD_MS);
      };
      step();
    });
  }

  /** @param {MicState} state */
  setMic(state) {
    const live = state === 'live' || state === 'starting';
    this.#mic.dataset.state = state;
    this.#mic.setAttribute('aria-pressed', String(live));
    this.#mic.setAttribute('aria-label', live ? 'Stop microphone' : 'Start microphone');
    if (state === 'blocked') this.setNotice('Microphone access was denied. You can still type.');
    else if (state === 'unavailable') this.setNotice('No microphone is available here. You can still type.');
    if (!live) this.setLevel(0);
  }

  /** @param {number} level input level, 0–1 */
  setLevel(level) {
    this.#widget.style.setProperty('--level', level.toFixed(3));
  }

  /**
   * The session is over: stops speaking, disables every control and covers
   * the widget with an explanation.
   * @param {string} title
   * @param {string} detail
   * @param {AvatarMode} [mode]
   */
  showEnded(title, detail, mode = 'ended') {
    this.#stopSpeaking();
    this.setNotice(null);
    this.setMic('off');
    this.setTimeLeft(null);
    this.mode = mode;
    this.#endedTitle.textContent = title;
    this.#endedDetail.textContent = detail;
    this.#ended.hidden = false;
  }

  /** Back to a fresh, connecting widget (a new session id). */
  reset() {
    this.#stopSpeaking();
    this.#ended.hidden = true;
    this.#you.hidden = true;
    this.#caption.textContent = '';
    this.#spoken.textContent = '';
    this.setNotice(null);
    this.setMic('off');
    this.setTimeLeft(null);
    this.mode = 'connecting';
  }

  /** Ends any speech in progress (for teardown). */
  stop() {
    this.#stopSpeaking();
  }

  #stopSpeaking() {
    clearTimeout(this.#sayTimer);
    this.#sayDone?.();
  }
}
