// @ts-check
/**
 * The iframe form of the simulated Konpro avatar widget, served at
 * `{mount}/widget/?session_id=...`. It shows `<konpro-avatar>` full-frame and
 * talks to its embedding page:
 *
 * - `{type: "konpro-session-terminated", session_id}` once, when the session
 *   is gone (deleted, expired, unknown), so the page can tear the frame down;
 * - `{type: "konpro-widget-activity"}` at most once a second while the user
 *   points, types or scrolls in the frame, for a kiosk's idle detection
 *   (input inside a cross-origin frame never reaches the parent otherwise).
 *
 * Both are posted with target origin `*`: they carry no secret, and the
 * widget cannot know which origin embeds it.
 */
import './embed.js';

const ACTIVITY_INTERVAL_MS = 1000;

const params = new URLSearchParams(location.search);
const avatar = document.createElement('konpro-avatar');
avatar.setAttribute('session-id', params.get('session_id') ?? '');
const poll = params.get('poll');
if (poll) avatar.setAttribute('poll-interval', poll);

const embedded = window.parent !== window;

// The message shape is the guard's contract (TERMINATED_MESSAGE_TYPE in src/konpro-api.ts);
// this page is the vendor's code, so it spells it out rather than importing the guard.
avatar.addEventListener('konpro-avatar-ended', (event) => {
  const { sessionId } = /** @type {CustomEvent<{ sessionId: string }>} */ (event).detail;
  if (embedded) window.parent.postMessage({ type: 'konpro-session-terminated', session_id: sessionId }, '*');
});

let lastActivity = 0;
const reportActivity = () => {
  const now = Date.now();
  if (!embedded || now - lastActivity < ACTIVITY_INTERVAL_MS) return;
  lastActivity = now;
  window.parent.postMessage({ type: 'konpro-widget-activity' }, '*');
};
for (const type of ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart']) {
  window.addEventListener(type, reportActivity, { capture: true, passive: true });
}

document.body.append(avatar);
