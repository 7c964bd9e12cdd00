// @ts-check
/**
 * The demo site's page (`/`). It runs before the guard element is defined,
 * so the query switches below are attributes the guard sees from the start:
 *
 * - `embed=1`            the in-page embed (`<konpro-avatar>` stamped from the guard's `<template>`) instead of the iframe
 * - `check-interval=N`   the guard's status checks, in seconds (0 = off; default 30)
 * - `poll=N`             the embedded widget's own status poll, in seconds (default 2)
 *
 * Logging out: the Log out button is an ordinary submit button that the
 * guard's `logout-trigger` matches. The guard tears the widget down in the
 * capture phase of that click and queues the delete; this page then waits for
 * that same `logout()` to settle before it submits the sign-out form, so the
 * proxy still knows the user when the DELETE arrives.
 *
 * "Sign out at the identity provider" is no logout trigger: it asks the demo
 * identity provider (`POST /idp/sign-out`) to sign an OpenID Connect logout
 * token and post it to the site's back-channel logout URI, server to server.
 * This page's widget, like every other device's, then goes through its event
 * stream (`push`), as it would for a real provider; the log shows the answer.
 */
import { EventLog } from './event-log.js';
import { SharedSession } from './shared-session.js';

/** @typedef {import('./shared-session.js').Guard} Guard */

const SIGNED_OUT_FLAG = 'konpro-demo:signed-out';
/** Tells the other tabs of the site that someone signed in or out. */
const authChannel = 'BroadcastChannel' in window ? new BroadcastChannel('konpro-demo-auth') : null;

/**
 * @template {Element} E
 * @param {string} id
 * @param {new (...args: never[]) => E} type
 * @returns {E}
 */
function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`demo: missing #${id}`);
  return element;
}

const guard = /** @type {Guard} */ (byId('guard', HTMLElement));
const signedOutView = byId('signed-out', HTMLElement);
const signedInView = byId('signed-in', HTMLElement);
const signOutForm = byId('sign-out-form', HTMLFormElement);
const pageStatus = byId('page-status', HTMLElement);
const notice = byId('notice', HTMLElement);
const endReason = byId('end-reason', HTMLElement);
const newSessionButton = byId('new-session', HTMLButtonElement);

// --- Query switches, applied before the element upgrades --------------------------------------
const query = new URLSearchParams(location.search);
const embedScript = guard.dataset.embedScript ?? '';
const embed = query.get('embed') === '1' && embedScript !== '';
const checkInterval = query.get('check-interval');
if (checkInterval !== null) guard.setAttribute('check-interval', checkInterval);
if (embed) {
  const poll = query.get('poll');
  const template = guard.querySelector('template');
  if (poll !== null) template?.content.querySelector('konpro-avatar')?.setAttribute('poll-interval', poll);
  void import(embedScript);
} else {
  // Widget URL template for a session this tab did not start (a second tab shows the same session).
  guard.setAttribute('widget-src', guard.dataset.widgetSrc ?? '');
}
byId('mode-label', HTMLElement).textContent = embed ? 'in-page embed' : 'iframe widget';
byId(embed ? 'mode-embed' : 'mode-iframe', HTMLAnchorElement).setAttribute('aria-current', 'true');
// Forms come back to this very page, switches included; so does the second-tab link.
const here = `${location.pathname}${location.search}`;
for (const input of document.querySelectorAll('input[name="next"]'))
  /** @type {HTMLInputElement} */ (input).value = here;
byId('second-tab', HTMLAnchorElement).href = here;

// --- Event log ------------------------------------------------------------------------------------
const log = new EventLog(byId('event-log', HTMLOListElement), byId('log-empty', HTMLElement));
log.listen(document);
byId('clear-log', HTMLButtonElement).addEventListener('click', () => log.clear());

// --- The widget -----------------------------------------------------------------------------------
const shared = new SharedSession(guard, { embed });
/** @type {string | null} */
let user = null;
let signingOut = false;

/** @type {Record<string, string>} */
const END_REASONS = {
  logout: 'You logged out: the widget was removed at once.',
  terminated: 'The avatar service ended this session (it was revoked or is no longer valid).',
  revoked:
    'The site ended this session on every device (signed out everywhere, at the identity provider, or by an administrator).',
  expired: 'The session reached its time limit.',
  'other-tab': 'The session ended in another tab of this site.',
  idle: 'The session ended after a period without activity.',
  reset: 'The session was reset.',
  invalid: 'That session had already ended; it cannot be shown again.',
};

guard.addEventListener('konpro-session-end', (event) => {
  const { reason } = /** @type {CustomEvent<{ reason: string }>} */ (event).detail;
  endReason.textContent = END_REASONS[reason] ?? 'It can no longer be used.';
  newSessionButton.hidden = signingOut;
});
guard.addEventListener('konpro-session-start', () => say(''));
guard.addEventListener('konpro-guard-error', (event) => {
  const { code, message } = /** @type {CustomEvent<{ code: string, message: string }>} */ (event).detail;
  if (code === 'start-failed') byId('error-detail', HTMLElement).textContent = message;
});

/** Shows the user's session (shared with their other tabs), or starts one. */
async function showWidget(/** @type {{ fresh?: boolean }} */ { fresh = false } = {}) {
  if (!user) return;
  byId('start-retry', HTMLButtonElement).hidden = true;
  byId('start-text', HTMLElement).textContent = 'Starting your avatar session…';
  try {
    await customElements.whenDefined('konpro-widget-guard');
    if (fresh) await shared.startNew(user);
    else await shared.show(user);
  } catch (error) {
    // The guard reports its own start failures (error panel); this is the embed's own request.
    if (guard.state !== 'error') {
      byId('start-text', HTMLElement).textContent =
        `The avatar could not be started: ${error instanceof Error ? error.message : String(error)}`;
      byId('start-retry', HTMLButtonElement).hidden = false;
    }
  }
}

for (const id of ['new-session', 'error-retry', 'start-retry']) {
  byId(id, HTMLButtonElement).addEventListener('click', () => void showWidget({ fresh: true }));
}

// --- Signing out -----------------------------------------------------------------------------------
signOutForm.addEventListener('submit', (event) => {
  event.preventDefault();
  // form.submit() below sends no submitter: say in a field which button it was.
  const everywhere = /** @type {SubmitEvent} */ (event).submitter?.id === 'logout-everywhere';
  /** @type {HTMLInputElement} */ (signOutForm.elements.namedItem('everywhere')).value = everywhere ? '1' : '0';
  void signOut();
});

async function signOut() {
  if (signingOut) return;
  signingOut = true;
  newSessionButton.hidden = true;
  shared.forget();
  say('Ending your avatar session…');
  // The same promise the guard's own click handler started: the widget is already gone.
  const result = await guard.logout();
  if (result.outcome === 'queued') {
    say(
      'You are offline. The avatar is gone from this page; its session will be ended on the server as soon as you are back online.',
      true,
    );
    await deleteSettled(result.sessionId);
    say('Back online: the session was ended. Signing you out…');
  }
  sessionStorage.setItem(SIGNED_OUT_FLAG, '1');
  signOutForm.submit();
}

/** Resolves when the outbox has settled the delete of `sessionId` (not merely queued it again). */
function deleteSettled(/** @type {string} */ sessionId) {
  return new Promise((resolve) => {
    const scope = new AbortController();
    guard.addEventListener(
      'konpro-delete',
      (event) => {
        const detail = /** @type {CustomEvent<{ sessionId: string, outcome: string }>} */ (event).detail;
        if (detail.sessionId !== sessionId || detail.outcome === 'queued') return;
        scope.abort();
        resolve(detail);
      },
      { signal: scope.signal },
    );
  });
}

// --- Signing out at the identity provider -----------------------------------------------------------
const idpSignOutButton = byId('idp-sign-out', HTMLButtonElement);
idpSignOutButton.addEventListener('click', () => void signOutAtIdentityProvider());

/**
 * @typedef {{
 *   logout_token?: { header: Record<string, unknown>, claims: Record<string, unknown> },
 *   back_channel_logout?: { url: string, status: number, cache_control: string | null, body: unknown },
 *   error?: string,
 *   error_description?: string,
 * }} IdpSignOutAnswer
 */

async function signOutAtIdentityProvider() {
  idpSignOutButton.disabled = true;
  say('Signing you out at the identity provider…');
  try {
    const response = await fetch('/idp/sign-out', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
    /** @type {IdpSignOutAnswer} */
    const answer = await response.json().catch(() => ({}));
    const endpoint = answer.back_channel_logout;
    const claims = answer.logout_token?.claims ?? {};
    if (endpoint) {
      log.add('back-channel-logout', {
        request: `POST ${endpoint.url} (logout_token, typ ${String(answer.logout_token?.header.typ)})`,
        answer: endpoint.status,
        ...(endpoint.body ? { error: endpoint.body } : {}),
        sub: claims.sub,
        jti: claims.jti,
      });
    } else {
      log.add('back-channel-logout', { answer: response.status, error: answer.error_description ?? answer.error });
    }
    say(
      response.ok
        ? 'Signed out at the identity provider: its logout token reached the site, which ended your avatar sessions on every device. (The demo’s own sign-in is a cookie the server cannot end, so you stay signed in here.)'
        : `The identity provider could not sign you out: ${endpoint ? `the site answered ${endpoint.status}` : (answer.error_description ?? `status ${response.status}`)}.`,
      !response.ok,
    );
  } catch (error) {
    say(`The identity provider did not answer: ${error instanceof Error ? error.message : String(error)}`, true);
  } finally {
    idpSignOutButton.disabled = false;
  }
}

// --- Who is signed in -----------------------------------------------------------------------------
async function refreshAuth() {
  /** @type {{ user: { name: string, kind: string } | null }} */
  let session = { user: null };
  try {
    const response = await fetch('/auth/session', { cache: 'no-store', credentials: 'same-origin' });
    if (response.ok) session = await response.json();
  } catch {
    // Offline: keep showing what is shown.
    return;
  }
  const name = session.user?.kind === 'person' ? session.user.name : null;
  const wasSignedIn = user !== null;
  user = name;
  signedOutView.hidden = name !== null;
  signedInView.hidden = name === null;
  if (name === null) {
    shared.forget();
    return;
  }
  byId('user-name', HTMLElement).textContent = name;
  // Only on sign-in: a tab whose session ended does not start another by itself.
  if (!wasSignedIn) await showWidget();
}

function say(/** @type {string} */ text, warn = false) {
  pageStatus.textContent = text;
  pageStatus.classList.toggle('warn', warn && text !== '');
}

if (sessionStorage.getItem(SIGNED_OUT_FLAG)) {
  sessionStorage.removeItem(SIGNED_OUT_FLAG);
  notice.textContent = 'You signed out. Your avatar session was ended, in this tab and every other.';
  notice.hidden = false;
  authChannel?.postMessage({ type: 'signed-out' });
}
authChannel?.addEventListener('message', () => void refreshAuth());
// Back/forward cache: the page comes back as it was left; who is signed in may have changed.
window.addEventListener('pageshow', (event) => event.persisted && void refreshAuth());
signedOutView.querySelector('form')?.addEventListener('submit', () => shared.forget());
void refreshAuth();
