// @ts-check
/**
 * One avatar session per signed-in user, shared by all of the user's tabs:
 * the first tab asks the site's proxy for a session, later tabs show the same
 * one. That is what lets the guard prove its promises across tabs: end the
 * session in one tab and it ends in all, with a single DELETE.
 *
 * The session id is kept in localStorage (it is not a secret: the widget
 * runs with it in the page). An id the guard refuses (it knows the session
 * ended) is forgotten and a new session is asked for.
 */

/**
 * The parts of `<konpro-widget-guard>` the pages use (defined by /dist/konpro-widget-guard.min.js).
 * @typedef {object} GuardApi
 * @property {string | null} proxy
 * @property {string | null} sessionId
 * @property {string | number | Date | null} expiresAt
 * @property {string} state
 * @property {() => Promise<void>} start
 * @property {() => Promise<{ sessionId: string, outcome: string, attempts: number }>} logout
 * @property {() => Promise<void>} reset
 * @typedef {HTMLElement & GuardApi} Guard
 */

/** @typedef {{ user: string, sessionId: string, expiresAt: string | null }} SharedRecord */

const STORAGE_KEY = 'konpro-demo:widget-session';

export class SharedSession {
  /** @type {Guard} */
  #guard;
  #embed;

  /**
   * @param {Guard} guard
   * @param {{ embed: boolean }} options `embed`: the widget is the in-page `<template>`, not an iframe
   */
  constructor(guard, { embed }) {
    this.#guard = guard;
    this.#embed = embed;
    // Whatever ends the session, no tab should try to show it again.
    guard.addEventListener('konpro-session-end', (event) =>
      this.forget(/** @type {CustomEvent<{ sessionId: string }>} */ (event).detail.sessionId),
    );
  }

  /** Shows the user's shared session, or starts one. */
  async show(/** @type {string} */ user) {
    const shared = read();
    if (shared && shared.user === user && (shared.expiresAt === null || Date.parse(shared.expiresAt) > Date.now())) {
      if (await this.#mount(shared)) return;
    }
    await this.startNew(user);
  }

  /** Asks the proxy for a new session and shows it; it becomes the one the user's other tabs show. */
  async startNew(/** @type {string} */ user) {
    const guard = this.#guard;
    if (this.#embed) {
      // `start()` would mount the proxy's widget_url in an iframe; the in-page
      // embed needs the session alone, so the page asks the proxy itself.
      const created = await createSession(guard.proxy ?? '');
      guard.expiresAt = created.expires_at;
      const settled = this.#settled(created.session_id);
      guard.sessionId = created.session_id;
      await settled;
      write({ user, sessionId: created.session_id, expiresAt: created.expires_at });
    } else {
      await guard.start();
      if (guard.sessionId && guard.state === 'active') write({ user, sessionId: guard.sessionId, expiresAt: null });
    }
  }

  /** Forgets the shared session (all of them, or only `sessionId`). */
  forget(/** @type {string} */ sessionId = '') {
    const shared = read();
    if (shared && (sessionId === '' || shared.sessionId === sessionId)) localStorage.removeItem(STORAGE_KEY);
  }

  /** @returns {Promise<boolean>} whether the guard shows it (false: it refused it as ended) */
  async #mount(/** @type {SharedRecord} */ shared) {
    if (this.#guard.sessionId === shared.sessionId && this.#guard.state === 'active') return true;
    const settled = this.#settled(shared.sessionId);
    if (shared.expiresAt !== null) this.#guard.expiresAt = shared.expiresAt;
    this.#guard.sessionId = shared.sessionId;
    return settled;
  }

  /** Resolves `true` when `sessionId` goes live, `false` when the guard ends or refuses it first. */
  #settled(/** @type {string} */ sessionId) {
    return new Promise((resolve) => {
      const scope = new AbortController();
      const done = (/** @type {boolean} */ live) => {
        scope.abort();
        resolve(live);
      };
      /** @param {Event} event */
      const about = (event) =>
        /** @type {CustomEvent<{ sessionId?: string }>} */ (event).detail?.sessionId === sessionId;
      this.#guard.addEventListener('konpro-session-start', (event) => about(event) && done(true), {
        signal: scope.signal,
      });
      this.#guard.addEventListener('konpro-session-end', (event) => about(event) && done(false), {
        signal: scope.signal,
      });
      // A misconfiguration that keeps the widget from mounting (not a mere warning).
      this.#guard.addEventListener('konpro-guard-error', () => this.#guard.state === 'error' && done(false), {
        signal: scope.signal,
      });
    });
  }
}

/**
 * `POST {proxy}` as the guard itself sends it (same-origin credentials, the
 * guard header the proxy requires).
 * @param {string} proxy
 * @returns {Promise<{ session_id: string, widget_url: string, expires_at: string }>}
 */
async function createSession(proxy) {
  const response = await fetch(proxy, {
    method: 'POST',
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { 'X-Konpro-Guard': '1', Accept: 'application/json' },
  });
  const body = await response.json().catch(() => null);
  if (response.status !== 201 || typeof body?.session_id !== 'string') {
    throw new Error(body?.error?.message ?? `the proxy answered ${response.status}`);
  }
  return body;
}

/** @returns {SharedRecord | null} */
function read() {
  try {
    const value = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
    return value && typeof value.user === 'string' && typeof value.sessionId === 'string' ? value : null;
  } catch {
    return null;
  }
}

function write(/** @type {SharedRecord} */ record) {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(record));
}
