// @ts-check
/**
 * A live, accessible list of the guard's events: newest first, each with its
 * time and detail. The list is `aria-live="polite"`, so a screen reader hears
 * what the guard did without being interrupted.
 */

/** Every event the guard fires (its contract); all bubble and cross shadow roots. */
export const GUARD_EVENTS = /** @type {const} */ ([
  'konpro-session-start',
  'konpro-session-end',
  'konpro-delete',
  'konpro-idle-warning',
  'konpro-guard-error',
]);

/** @type {Record<string, string>} */
const KIND = {
  'konpro-session-start': 'start',
  'konpro-session-end': 'end',
  'konpro-delete': 'delete',
  'konpro-idle-warning': 'warning',
  'konpro-guard-error': 'error',
  // The demo's own entry: what the site's back-channel logout endpoint answered its identity provider.
  'back-channel-logout': 'server',
};

export class EventLog {
  /** @type {HTMLOListElement} */
  #list;
  /** @type {HTMLElement | null} */
  #empty;
  #limit;

  /**
   * @param {HTMLOListElement} list
   * @param {HTMLElement | null} empty shown while the list is empty
   * @param {number} [limit] oldest entries are dropped past this many
   */
  constructor(list, empty, limit = 100) {
    this.#list = list;
    this.#empty = empty;
    this.#limit = limit;
  }

  /** Logs every guard event that reaches `target` (a document hears every guard of the page). */
  listen(target = document) {
    for (const type of GUARD_EVENTS) {
      target.addEventListener(type, (event) => this.add(type, /** @type {CustomEvent} */ (event).detail));
    }
  }

  /**
   * @param {string} type
   * @param {unknown} detail
   */
  add(type, detail) {
    const item = document.createElement('li');
    item.dataset.kind = KIND[type] ?? 'other';
    item.dataset.event = type;
    const now = new Date();
    const time = document.createElement('time');
    time.dateTime = now.toISOString();
    time.textContent = `${now.toLocaleTimeString([], { hour12: false })}.${String(now.getMilliseconds()).padStart(3, '0')}`;
    const name = document.createElement('span');
    name.className = 'event-name';
    name.textContent = type;
    const text = document.createElement('span');
    text.className = 'event-detail';
    text.textContent = describe(detail);
    item.append(time, name, text);
    this.#list.prepend(item);
    while (this.#list.children.length > this.#limit) this.#list.lastElementChild?.remove();
    if (this.#empty) this.#empty.hidden = true;
  }

  clear() {
    this.#list.replaceChildren();
    if (this.#empty) this.#empty.hidden = false;
  }
}

/** `{sessionId: "ws_1", reason: "logout"}` → `sessionId: ws_1 · reason: logout` */
function describe(/** @type {unknown} */ detail) {
  if (typeof detail !== 'object' || detail === null) return detail === undefined ? '' : String(detail);
  return Object.entries(detail)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' · ');
}
