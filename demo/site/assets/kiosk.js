// @ts-check
/**
 * The kiosk page (`/kiosk`). The guard does the kiosk work itself
 * (`auto-start`, `idle-timeout`, `idle-warning`): it starts a session, counts
 * down after a quiet spell, resets and starts a fresh one. This page only
 * applies the query switches (before the element upgrades), recovers from a
 * session the service ended, and offers a manual reset.
 *
 * Query switches:
 * - `idle-timeout=N`    seconds without activity before the reset (default 45)
 * - `idle-warning=N`    seconds of visible countdown before it (default 10)
 * - `check-interval=N`  the guard's status checks, in seconds (default 15)
 */
/** @typedef {import('./shared-session.js').Guard} Guard */

/** After the service ended a session, how long the kiosk shows so before it starts a new one. */
const RECOVER_MS = 6000;

const guard = /** @type {Guard} */ (document.getElementById('guard'));
const query = new URLSearchParams(location.search);
for (const name of ['idle-timeout', 'idle-warning', 'check-interval']) {
  const value = query.get(name);
  if (value !== null) guard.setAttribute(name, value);
}
const idleSeconds = document.getElementById('idle-seconds');
if (idleSeconds) idleSeconds.textContent = guard.getAttribute('idle-timeout') ?? '';

let recovery = 0;
/** Starts over after the service ended the session or would not start one: a kiosk has no one to ask. */
function recoverLater() {
  clearTimeout(recovery);
  recovery = window.setTimeout(() => void guard.reset().catch(() => recoverLater()), RECOVER_MS);
}

/** @type {Record<string, string>} */
const END_TEXT = {
  terminated: 'The avatar service ended this conversation. A new one starts in a moment.',
  expired: 'This conversation reached its time limit. A new one starts in a moment.',
  invalid: 'This conversation had already ended. A new one starts in a moment.',
  'other-tab': 'This conversation was ended elsewhere. A new one starts in a moment.',
};

guard.addEventListener('konpro-session-end', (event) => {
  const { reason } = /** @type {CustomEvent<{ reason: string }>} */ (event).detail;
  const text = document.getElementById('kiosk-end-reason');
  if (text) text.textContent = END_TEXT[reason] ?? 'A new conversation starts in a moment.';
  // `idle` and `reset` start the next session by themselves (auto-start).
  if (reason !== 'idle' && reason !== 'reset') recoverLater();
});
guard.addEventListener('konpro-session-start', () => clearTimeout(recovery));
guard.addEventListener('konpro-guard-error', (event) => {
  if (/** @type {CustomEvent<{ code: string }>} */ (event).detail.code === 'start-failed') recoverLater();
});

const resetNow = () => {
  clearTimeout(recovery);
  void guard.reset().catch(() => recoverLater());
};
for (const id of ['reset-now', 'restart', 'retry']) document.getElementById(id)?.addEventListener('click', resetNow);
