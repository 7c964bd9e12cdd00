/**
 * What a kiosk reset wipes from the browser, as the host lists it in the
 * `wipe` attribute: space-separated `kind:name` entries, where kind is
 * `localStorage`, `sessionStorage`, `indexedDB` or `cookie`, a trailing `*`
 * makes the name a prefix, and `{session_id}` stands for the ended session.
 *
 *     wipe="localStorage:avatar-* sessionStorage:* indexedDB:avatar-cache cookie:kp_{session_id}"
 *
 * Only what the page itself can reach is wiped (a cross-origin widget frame
 * keeps its own storage, and is gone with its frame anyway). The guard's own
 * stores are never wiped: the ended-session record keeps the session from
 * coming back, and undelivered deletes must survive.
 */

export interface WipeList {
  localStorage: string[];
  sessionStorage: string[];
  indexedDB: string[];
  cookie: string[];
}

const KINDS = ['localStorage', 'sessionStorage', 'indexedDB', 'cookie'] as const;
const OWN = 'konpro-widget-guard';
/** A database that stays open (blocked) is not waited for longer than this. */
const DELETE_DATABASE_TIMEOUT_MS = 2_000;

export function parseWipe(value: string | null): { list: WipeList; errors: string[] } {
  const list: WipeList = { localStorage: [], sessionStorage: [], indexedDB: [], cookie: [] };
  const errors: string[] = [];
  for (const token of (value ?? '').trim().split(/\s+/).filter(Boolean)) {
    const colon = token.indexOf(':');
    const kind = token.slice(0, colon) as (typeof KINDS)[number];
    const name = token.slice(colon + 1);
    if (colon < 1 || !KINDS.includes(kind) || name === '') {
      errors.push(`wipe entry "${token}" is not kind:name with kind one of ${KINDS.join(', ')}`);
      continue;
    }
    list[kind].push(name);
  }
  return { list, errors };
}

/**
 * Whether a name is one of `patterns` (with `{session_id}` filled in): exactly, or by prefix for a
 * pattern that ends in `*`. The guard's own names never are.
 */
function matcher(patterns: string[], sessionId: string): (name: string) => boolean {
  const filled = patterns.map((pattern) => pattern.replaceAll('{session_id}', sessionId));
  return (name) =>
    !name.startsWith(OWN) &&
    filled.some((pattern) => (pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern));
}

function wipeStorage(kind: 'localStorage' | 'sessionStorage', patterns: string[], sessionId: string): void {
  if (patterns.length === 0) return;
  try {
    const store = window[kind];
    const matches = matcher(patterns, sessionId);
    const keys = Array.from({ length: store.length }, (_, i) => store.key(i));
    for (const key of keys) if (key !== null && matches(key)) store.removeItem(key);
  } catch {
    // Storage blocked: nothing of it to wipe.
  }
}

function wipeCookies(patterns: string[], sessionId: string): void {
  if (patterns.length === 0) return;
  const matches = matcher(patterns, sessionId);
  const names = document.cookie
    .split(';')
    .map((pair) => pair.split('=')[0].trim())
    .filter((name) => name !== '' && matches(name));
  // A cookie is removed with the path (and domain) it was set with: try the page's path and its parents.
  const segments = location.pathname.split('/').filter(Boolean);
  const paths = ['/', ...segments.map((_, i) => `/${segments.slice(0, i + 1).join('/')}`)];
  for (const name of names) {
    for (const path of paths) {
      for (const domain of ['', `; Domain=${location.hostname}`])
        document.cookie = `${name}=; Max-Age=0; Path=${path}${domain}`;
    }
  }
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve) => {
    const timer = window.setTimeout(resolve, DELETE_DATABASE_TIMEOUT_MS);
    const done = () => {
      window.clearTimeout(timer);
      resolve();
    };
    try {
      const request = indexedDB.deleteDatabase(name);
      request.onsuccess = done;
      request.onerror = done;
    } catch {
      done();
    }
  });
}

async function wipeDatabases(patterns: string[], sessionId: string): Promise<void> {
  if (patterns.length === 0 || typeof indexedDB === 'undefined') return;
  const matches = matcher(patterns, sessionId);
  let names = patterns.filter((p) => !p.endsWith('*')).map((p) => p.replaceAll('{session_id}', sessionId));
  if (patterns.some((p) => p.endsWith('*')) && typeof indexedDB.databases === 'function') {
    const all = await indexedDB.databases().catch(() => []);
    names = [...names, ...all.map((db) => db.name).filter((n): n is string => typeof n === 'string')];
  }
  await Promise.all([...new Set(names)].filter(matches).map(deleteDatabase));
}

/** Wipes what `list` names for the ended `sessionId`. Never throws. */
export async function wipe(list: WipeList, sessionId: string): Promise<void> {
  wipeStorage('localStorage', list.localStorage, sessionId);
  wipeStorage('sessionStorage', list.sessionStorage, sessionId);
  wipeCookies(list.cookie, sessionId);
  await wipeDatabases(list.indexedDB, sessionId);
}
