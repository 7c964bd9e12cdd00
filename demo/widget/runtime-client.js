// @ts-check
/**
 * The simulated widget's calls to the vendor runtime
 * (`{api-base}v1/widget/runtime/*`), authenticated by the session token
 * alone. Each call goes through the page's `fetch`, looked up at call time,
 * so a guard that watches `fetch` sees every one of them.
 */

/**
 * @typedef {object} RuntimeSession
 * @property {string} session_id
 * @property {string} agentic_avatar_id
 * @property {string} status
 * @property {string} expires_at
 * @property {string} server_time
 * @property {{ name: string, greeting: string }} avatar
 */

/**
 * @typedef {object} RuntimeReply
 * @property {string} message_id
 * @property {string} reply
 * @property {string} created_at
 */

/**
 * `ended`: the session is gone for good (the runtime said so).
 * `failed`: anything else (network, 5xx, 429, unreadable body): try again later.
 * @template T
 * @typedef {{ kind: 'ok', value: T }
 *   | { kind: 'ended', code: string, message: string }
 *   | { kind: 'failed', status: number, message: string }} RuntimeResult
 */

// The vendor's own id rule (the same alphabet the guard accepts). The widget
// is a separate product, so it keeps its own copy rather than importing the guard's.
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** @param {unknown} value @returns {value is string} */
export function isSessionId(value) {
  return typeof value === 'string' && SESSION_ID.test(value);
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isRecord(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class RuntimeClient {
  /** @type {URL} */
  #base;
  /** @type {string} */
  #sessionId;

  /**
   * @param {string | URL} apiBase the vendor base, e.g. `https://sim.example/konpro/`
   * @param {string} sessionId
   */
  constructor(apiBase, sessionId) {
    const base = new URL(apiBase, document.baseURI);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.#base = base;
    this.#sessionId = sessionId;
  }

  /**
   * @param {AbortSignal} [signal]
   * @returns {Promise<RuntimeResult<RuntimeSession>>}
   */
  session(signal) {
    return this.#call('GET', 'v1/widget/runtime/session', undefined, signal);
  }

  /**
   * @param {string} text
   * @param {AbortSignal} [signal]
   * @returns {Promise<RuntimeResult<RuntimeReply>>}
   */
  send(text, signal) {
    return this.#call('POST', 'v1/widget/runtime/messages', { text }, signal);
  }

  /**
   * @template T
   * @param {'GET' | 'POST'} method
   * @param {string} path
   * @param {unknown} body
   * @param {AbortSignal} [signal]
   * @returns {Promise<RuntimeResult<T>>}
   */
  async #call(method, path, body, signal) {
    /** @type {Record<string, string>} */
    const headers = { Authorization: `Bearer ${this.#sessionId}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    /** @type {Response} */
    let response;
    try {
      response = await globalThis.fetch(new URL(path, this.#base), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch {
      return { kind: 'failed', status: 0, message: 'The avatar service cannot be reached.' };
    }
    /** @type {unknown} */
    let data;
    try {
      data = await response.json();
    } catch {
      data = undefined;
    }
    if (response.ok && isRecord(data)) return { kind: 'ok', value: /** @type {T} */ (/** @type {unknown} */ (data)) };
    const error = isRecord(data) && isRecord(data.error) ? data.error : {};
    const code = typeof error.code === 'string' ? error.code : '';
    const message = typeof error.message === 'string' ? error.message : `HTTP ${response.status}`;
    // A 401/403 whose code names the session or its token (SESSION_TERMINATED,
    // SESSION_EXPIRED, INVALID_SESSION_TOKEN) means this token is dead for good.
    if ((response.status === 401 || response.status === 403) && /SESSION|TOKEN/.test(code)) {
      return { kind: 'ended', code, message };
    }
    return { kind: 'failed', status: response.status, message };
  }
}
