// Delivery, the guard's side: a page of the site with guards, one per session. Logging out
// goes through the guard's own outbox. Every page of the site has a guard, so loading any
// of them replays what earlier pages left pending.
import { once } from './bench-page.js';

await import('/dist/konpro-widget-guard.min.js');

const PROXY = '/bench/faulty';

function addGuard(id) {
  const guard = document.createElement('konpro-widget-guard');
  guard.setAttribute('proxy', PROXY);
  guard.setAttribute('check-interval', '0');
  if (id) {
    guard.setAttribute('session-id', id);
    const widget = document.createElement('div');
    widget.textContent = `Avatar for ${id}`;
    guard.append(widget);
  }
  document.body.append(guard);
  return guard;
}

// The page's idle guard: it is what replays pending deletes on load.
addGuard(undefined);

window.mountSessions = async (ids) => {
  await Promise.all(
    ids.map((id) => {
      const guard = addGuard(id);
      return guard.state === 'active' ? undefined : once(guard, 'konpro-session-start');
    }),
  );
};

/** Logs every session of the page out; `navigateTo`: then leaves the page in the same task. */
window.logoutAll = (navigateTo) => {
  for (const guard of document.querySelectorAll('konpro-widget-guard[state="active"]')) void guard.logout();
  if (navigateTo) location.href = navigateTo;
};

/** Every record of this profile's outbox in IndexedDB. */
async function outboxEntries() {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open('konpro-widget-guard-outbox');
    request.onupgradeneeded = () => request.result.createObjectStore('deletes');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  try {
    return await new Promise((resolve, reject) => {
      const request = db.transaction('deletes', 'readonly').objectStore('deletes').getAll();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

/** Deletes the outbox still holds unconfirmed (IndexedDB entries without a settlement, and journal entries). */
window.pendingDeletes = async () => {
  const entries = await outboxEntries();
  const journal = Object.keys(localStorage).filter((key) => key.startsWith('konpro-widget-guard:delete:')).length;
  return {
    pending: entries.filter((entry) => !entry.settled).length,
    settled: entries.filter((entry) => entry.settled).length,
    journal,
  };
};

/** When this profile's outbox stored each session's confirmation (its tombstone), by session id. */
window.confirmedAt = async () =>
  Object.fromEntries(
    (await outboxEntries()).filter((entry) => entry.settled).map((entry) => [entry.sessionId, entry.settled.at]),
  );

window.benchReady = true;
