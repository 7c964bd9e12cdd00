// @ts-check
/**
 * The simulator console: lists sessions with a live countdown, revokes them
 * (the server performs the documented DELETE with the owning account's key;
 * no key ever reaches this page), creates test sessions and edits faults.
 * Everything goes through the JSON routes under `./api/`.
 */

/**
 * @typedef {object} ConsoleSession
 * @property {string} session_id
 * @property {string} account_id
 * @property {string} agentic_avatar_id
 * @property {string} status
 * @property {'deleted' | 'expired' | null} ended
 * @property {string} created_at
 * @property {string} expires_at
 * @property {string | null} ended_at
 * @property {string} widget_url
 */
/**
 * @typedef {object} RegistryUser
 * @property {string} user_id
 * @property {number} devices
 * @property {number} pages
 * @property {string} last_seen_at
 */
/** @typedef {{ latencyMs: number, errorRate: number, offline: boolean, rateLimitPerMinute: number }} FaultSettings */
/** @typedef {{ vendor: FaultSettings, proxy: FaultSettings }} FaultState */

const REFRESH_MS = 2000;
const API = new URL('api/', location.href);
/** The demo site's view of its proxy's registry (absent when the simulator runs on its own). */
const REGISTRY = new URL('/admin/registry', location.href);

/**
 * @template {Element} E
 * @param {string} selector
 * @param {new (...args: never[]) => E} type
 * @returns {E}
 */
function $(selector, type) {
  const element = document.querySelector(selector);
  if (!(element instanceof type)) throw new Error(`console: missing ${selector}`);
  return element;
}

const tbody = $('#sessions', HTMLTableSectionElement);
const empty = $('#no-sessions', HTMLElement);
const count = $('#session-count', HTMLElement);
const log = $('#log', HTMLElement);
const autoRefresh = $('#auto-refresh', HTMLInputElement);
const faultsForm = $('#faults-form', HTMLFormElement);
const faultFields = $('#fault-fields', HTMLTemplateElement);
for (const fieldset of faultsForm.querySelectorAll('fieldset')) fieldset.append(faultFields.content.cloneNode(true));
const registryCard = $('#registry', HTMLElement);
const registryBody = $('#registry-users', HTMLTableSectionElement);
const registryCount = $('#registry-count', HTMLElement);
const noRegistry = $('#no-registry', HTMLElement);
const createForm = $('#create-form', HTMLFormElement);
const created = $('#created', HTMLElement);

$('#api-base', HTMLElement).textContent = new URL('../v1/widget/sessions', location.href).href;

let sayTimer = 0;
/** The last refresh failed: say so once it works again. */
let unreachable = false;
/** Server clock minus local clock, so countdowns match the simulator's expiry. */
let skew = 0;
/** Fault inputs the user changed and has not applied: a refresh must not overwrite them. */
let faultsDirty = false;
/** @type {Map<string, { row: HTMLTableRowElement, session: ConsoleSession }>} */
const rows = new Map();

/**
 * @param {string} method
 * @param {string} path below `api/`
 * @param {unknown} [body]
 * @returns {Promise<{ status: number, data: any }>}
 */
async function call(method, path, body) {
  return callUrl(method, new URL(path, API), body);
}

/**
 * @param {string} method
 * @param {URL} url
 * @param {unknown} [body]
 * @returns {Promise<{ status: number, data: any }>}
 */
async function callUrl(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    // No JSON body: report the status alone.
  }
  return { status: response.status, data };
}

/**
 * @param {string} text
 * @param {boolean} [error]
 */
function say(text, error = false) {
  log.textContent = text;
  log.classList.toggle('error', error);
  clearTimeout(sayTimer);
  // Confirmations fade; errors stay until the next message.
  if (!error) sayTimer = window.setTimeout(() => (log.textContent = ''), 8000);
}

/** @param {{ status: number, data: any }} answer */
function describeError(answer) {
  const error = answer.data?.error;
  return error ? `${answer.status} ${error.code}: ${error.message}` : `HTTP ${answer.status}`;
}

/** @param {string} iso */
function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** @param {number} ms */
function duration(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 */
function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** @param {ConsoleSession} session */
function buildRow(session) {
  const row = document.createElement('tr');
  row.dataset.sessionId = session.session_id;
  const idCell = el('td');
  const link = /** @type {HTMLAnchorElement} */ (el('a', '', session.session_id));
  link.href = session.widget_url;
  link.target = '_blank';
  link.rel = 'noopener';
  link.title = 'Open the iframe widget for this session';
  idCell.append(el('code'));
  /** @type {HTMLElement} */ (idCell.firstChild).append(link);
  const revoke = /** @type {HTMLButtonElement} */ (el('button', 'revoke', 'Revoke'));
  revoke.type = 'button';
  revoke.setAttribute('aria-label', `Revoke session ${session.session_id}`);
  revoke.addEventListener('click', () => void revokeSession(session.session_id, revoke));
  const actions = el('td');
  actions.append(revoke);
  row.append(
    idCell,
    el('td', 'account', session.account_id),
    el('td', 'avatar', session.agentic_avatar_id),
    el('td', 'status'),
    el('td', 'created', clock(session.created_at)),
    el('td', 'expires', clock(session.expires_at)),
    el('td', 'time-left'),
    actions,
  );
  return row;
}

/**
 * @param {HTMLTableRowElement} row
 * @param {ConsoleSession} session
 */
function updateRow(row, session) {
  const active = session.status === 'active';
  row.classList.toggle('ended', !active);
  const status = /** @type {HTMLElement} */ (row.querySelector('.status'));
  const label = active ? 'active' : `terminated${session.ended ? ` (${session.ended})` : ''}`;
  if (status.textContent !== label)
    status.replaceChildren(el('span', `badge ${active ? 'active' : 'terminated'}`, label));
  const revoke = /** @type {HTMLButtonElement} */ (row.querySelector('button.revoke'));
  if (!active) revoke.disabled = true;
}

function tick() {
  const now = Date.now() + skew;
  for (const { row, session } of rows.values()) {
    const cell = /** @type {HTMLElement} */ (row.querySelector('.time-left'));
    const left = Date.parse(session.expires_at) - now;
    cell.textContent = session.status !== 'active' ? '—' : left > 0 ? duration(left) : 'expiring…';
  }
}

/** @param {ConsoleSession[]} sessions newest first */
function renderSessions(sessions) {
  const seen = new Set();
  let previous = /** @type {HTMLTableRowElement | null} */ (null);
  for (const session of sessions) {
    seen.add(session.session_id);
    let entry = rows.get(session.session_id);
    if (!entry) {
      entry = { row: buildRow(session), session };
      rows.set(session.session_id, entry);
    }
    entry.session = session;
    updateRow(entry.row, session);
    // Keep order without re-creating rows, so a focused Revoke button keeps its focus.
    const expected = previous ? previous.nextElementSibling : tbody.firstElementChild;
    if (expected !== entry.row) tbody.insertBefore(entry.row, expected);
    previous = entry.row;
  }
  for (const [id, entry] of rows) {
    if (!seen.has(id)) {
      entry.row.remove();
      rows.delete(id);
    }
  }
  const active = sessions.filter((s) => s.status === 'active').length;
  count.textContent = sessions.length === 0 ? '' : `${active} active · ${sessions.length} total`;
  empty.hidden = sessions.length > 0;
  tick();
}

/** @param {string} userId `person:<name>` or `kiosk:<device>`, as the demo site signs people in */
function userLabel(userId) {
  if (userId.startsWith('person:')) return userId.slice('person:'.length);
  if (userId.startsWith('kiosk:')) return `Kiosk ${userId.slice('kiosk:'.length, 'kiosk:'.length + 6)}`;
  return userId;
}

/** @param {string} iso */
function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() + skew - Date.parse(iso)) / 1000));
  return seconds < 5 ? 'just now' : `${duration(seconds * 1000)} ago`;
}

/** @param {RegistryUser[]} users */
function renderRegistry(users) {
  const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.userId : undefined;
  registryBody.replaceChildren(
    ...users.map((user) => {
      const row = document.createElement('tr');
      const revoke = /** @type {HTMLButtonElement} */ (el('button', 'revoke', 'Revoke on every device'));
      revoke.type = 'button';
      revoke.dataset.userId = user.user_id;
      revoke.setAttribute('aria-label', `Revoke ${userLabel(user.user_id)} on every device`);
      revoke.addEventListener('click', () => void revokeUser(user.user_id, revoke));
      const actions = el('td');
      actions.append(revoke);
      const seen = el('td', 'last-seen', ago(user.last_seen_at));
      seen.title = clock(user.last_seen_at);
      row.append(
        el('td', 'user', userLabel(user.user_id)),
        el('td', 'devices', String(user.devices)),
        el('td', 'pages', String(user.pages)),
        seen,
        actions,
      );
      return row;
    }),
  );
  // A refresh rebuilds the rows: keep the keyboard where it was.
  if (focused !== undefined)
    /** @type {HTMLElement | null} */ (registryBody.querySelector(`[data-user-id="${CSS.escape(focused)}"]`))?.focus();
  const devices = users.reduce((sum, user) => sum + user.devices, 0);
  registryCount.textContent = users.length === 0 ? '' : `${users.length} users · ${devices} devices`;
  noRegistry.hidden = users.length > 0;
}

async function refreshRegistry() {
  const answer = await callUrl('GET', REGISTRY).catch(() => ({ status: 0, data: null }));
  // No registry route: the simulator runs without the demo site.
  registryCard.hidden = answer.status !== 200;
  if (answer.status === 200) renderRegistry(answer.data.users);
}

/**
 * @param {string} userId
 * @param {HTMLButtonElement} button
 */
async function revokeUser(userId, button) {
  button.disabled = true;
  try {
    const answer = await callUrl('POST', new URL('revoke', `${REGISTRY.href}/`), { user_id: userId });
    if (answer.status !== 200) say(`Revoking ${userLabel(userId)} failed: ${describeError(answer)}`, true);
    else {
      const { ended, failed } = answer.data;
      say(
        `Revoked ${userLabel(userId)} on every device: ${ended.length} ended` +
          (failed.length > 0 ? `, ${failed.length} queued for retry (the vendor did not confirm yet)` : ''),
      );
    }
  } catch (error) {
    say(`Revoking ${userLabel(userId)} failed: ${error instanceof Error ? error.message : String(error)}`, true);
  }
  button.disabled = false;
  await refresh();
}

/** @param {FaultState} state */
function renderFaults(state) {
  for (const fieldset of faultsForm.querySelectorAll('fieldset')) {
    const target = /** @type {'vendor' | 'proxy'} */ (fieldset.dataset.target);
    const settings = state[target];
    const input = (/** @type {string} */ name) =>
      /** @type {HTMLInputElement} */ (fieldset.querySelector(`[name="${name}"]`));
    input('latencyMs').value = String(settings.latencyMs);
    input('errorRate').value = String(Math.round(settings.errorRate * 100));
    input('rateLimitPerMinute').value = String(settings.rateLimitPerMinute);
    input('offline').checked = settings.offline;
    showRate(input('errorRate'));
    fieldset.classList.toggle(
      'faulty',
      settings.offline || settings.errorRate > 0 || settings.latencyMs > 0 || settings.rateLimitPerMinute > 0,
    );
  }
}

/** @param {HTMLInputElement} range */
function showRate(range) {
  const output = range.parentElement?.querySelector('output');
  if (output) output.textContent = `${range.value} %`;
}

/** @returns {FaultState} */
function readFaults() {
  /** @type {Partial<FaultState>} */
  const state = {};
  for (const fieldset of faultsForm.querySelectorAll('fieldset')) {
    const target = /** @type {'vendor' | 'proxy'} */ (fieldset.dataset.target);
    const input = (/** @type {string} */ name) =>
      /** @type {HTMLInputElement} */ (fieldset.querySelector(`[name="${name}"]`));
    state[target] = {
      latencyMs: Math.max(0, Math.round(Number(input('latencyMs').value) || 0)),
      errorRate: Math.min(1, Math.max(0, Number(input('errorRate').value) / 100)),
      rateLimitPerMinute: Math.max(0, Math.round(Number(input('rateLimitPerMinute').value) || 0)),
      offline: input('offline').checked,
    };
  }
  return /** @type {FaultState} */ (state);
}

async function refresh() {
  try {
    const [sessions, faults] = await Promise.all([call('GET', 'sessions'), call('GET', 'faults'), refreshRegistry()]);
    if (sessions.status !== 200) throw new Error(describeError(sessions));
    skew = Date.parse(sessions.data.server_time) - Date.now() || 0;
    renderSessions(sessions.data.sessions);
    if (faults.status === 200 && !faultsDirty) renderFaults(faults.data);
    if (unreachable) say('The simulator is back.');
    unreachable = false;
  } catch (error) {
    unreachable = true;
    say(`Cannot reach the simulator: ${error instanceof Error ? error.message : String(error)}`, true);
  }
}

/**
 * @param {string} sessionId
 * @param {HTMLButtonElement} button
 */
async function revokeSession(sessionId, button) {
  button.disabled = true;
  try {
    const answer = await call('POST', `sessions/${encodeURIComponent(sessionId)}/revoke`);
    if (answer.status === 200) say(`DELETE /v1/widget/sessions/${sessionId} → 200 “${answer.data?.message}”`);
    else {
      say(`Revoking ${sessionId} failed: ${describeError(answer)}`, true);
      button.disabled = false;
    }
  } catch (error) {
    say(`Revoking ${sessionId} failed: ${error instanceof Error ? error.message : String(error)}`, true);
    button.disabled = false;
  }
  await refresh();
}

createForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const data = new FormData(createForm);
  const body = {
    agentic_avatar_id: String(data.get('agentic_avatar_id')),
    max_duration: Number(data.get('max_duration')),
  };
  void (async () => {
    const answer = await call('POST', 'sessions', body);
    if (answer.status !== 201) return say(`Creating a session failed: ${describeError(answer)}`, true);
    const link = /** @type {HTMLAnchorElement} */ (el('a', '', 'open the widget'));
    link.href = answer.data.widget_url;
    link.target = '_blank';
    link.rel = 'noopener';
    created.replaceChildren(`Created ${answer.data.session_id}, expires ${clock(answer.data.expires_at)} — `, link);
    created.hidden = false;
    say(`POST /v1/widget/sessions → 201 ${answer.data.session_id}`);
    await refresh();
  })();
});

faultsForm.addEventListener('input', (event) => {
  faultsDirty = true;
  if (event.target instanceof HTMLInputElement && event.target.type === 'range') showRate(event.target);
});

faultsForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void (async () => {
    const answer = await call('PUT', 'faults', readFaults());
    if (answer.status !== 200) return say(`Setting faults failed: ${describeError(answer)}`, true);
    faultsDirty = false;
    renderFaults(answer.data);
    say('Faults applied.');
  })();
});

$('#clear-faults', HTMLButtonElement).addEventListener('click', () => {
  void (async () => {
    const answer = await call('POST', 'reset', { sessions: false, faults: true });
    if (answer.status !== 200) return say(`Clearing faults failed: ${describeError(answer)}`, true);
    faultsDirty = false;
    renderFaults(answer.data.faults);
    say('Faults cleared.');
  })();
});

$('#reset-all', HTMLButtonElement).addEventListener('click', () => {
  if (!confirm('Forget every session and clear all faults?')) return;
  void (async () => {
    const answer = await call('POST', 'reset', {});
    if (answer.status !== 200) return say(`Reset failed: ${describeError(answer)}`, true);
    faultsDirty = false;
    say('Simulator reset: no sessions, no faults.');
    await refresh();
  })();
});

$('#refresh', HTMLButtonElement).addEventListener('click', () => void refresh());

setInterval(tick, 1000);
setInterval(() => {
  if (autoRefresh.checked && document.visibilityState === 'visible') void refresh();
}, REFRESH_MS);
void refresh();
