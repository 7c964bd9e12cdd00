import { expect } from '@esm-bundle/chai';
import { executeServerCommand } from '@web/test-runner-commands';
import { createStore, entries, get, set } from 'idb-keyval';
import { DeleteOutbox, type OutboxEntry } from '../../src/outbox/outbox.js';
import { OutboxJournal } from '../../src/outbox/journal.js';
import type { DeleteDetail } from '../../src/element/events.js';
import { callProxy } from '../../src/net/proxy-client.js';
import { TabChannel } from '../../src/tabs/tab-channel.js';
import { LeaseLocks } from '../../src/tabs/tab-lock.js';
import { FakeProxy, sleep, uniqueId, until } from '../support/helpers.js';

const fast = { backoff: { baseMs: 30, capMs: 200 }, timeoutMs: 2000 };

function outbox(
  store = createStore(uniqueId('outbox'), 'deletes'),
  extra: ConstructorParameters<typeof DeleteOutbox>[0] = {},
) {
  // A journal of its own: the default one is shared by every page of the origin, and so by
  // the other test files running beside this one.
  const box = new DeleteOutbox({ store, options: fast, journal: new OutboxJournal(uniqueId('journal:')), ...extra });
  const settled: DeleteDetail[] = [];
  const scope = new AbortController();
  box.subscribe((d) => settled.push(d), scope.signal);
  return { box, store, settled, scope };
}

/** The proxy's collection URL, as a guard with `proxy="${proxy.url}"` attaches with. */
const collection = (proxy: FakeProxy) => new URL(proxy.url, location.href).href;

async function sessionAt(proxy: FakeProxy): Promise<{ id: string; url: string }> {
  const id = uniqueId();
  await proxy.session(id);
  return { id, url: new URL(`${proxy.url}/${id}`, location.href).href };
}

/** `key` in `storeName` of database `name`, read through a connection of its own. */
async function readThroughOwnConnection<T>(name: string, storeName: string, key: string): Promise<T | undefined> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const open = indexedDB.open(name);
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error ?? new Error(`cannot open ${name}`));
  });
  try {
    if (!db.objectStoreNames.contains(storeName)) return undefined;
    return await new Promise<T | undefined>((resolve, reject) => {
      const request = db.transaction(storeName, 'readonly').objectStore(storeName).get(key);
      request.onsuccess = () => resolve(request.result as T | undefined);
      request.onerror = () => reject(request.error ?? new Error(`cannot read ${key}`));
    });
  } finally {
    db.close();
  }
}

describe('DeleteOutbox', () => {
  it('writes the delete to IndexedDB before the first network attempt', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    const name = uniqueId('outbox');
    const real = createStore(name, 'deletes');
    // Storage slow to take writes: each waits until the record has been looked for at the proxy
    // (or a second). A write the outbox does not await before sending is then still missing when
    // the request arrives, however it is ordered; a read through the outbox's own connection
    // would queue behind any write already issued, and see it.
    let lookedAtArrival!: () => void;
    const looked = new Promise<void>((resolve) => (lookedAtArrival = resolve));
    const store: typeof real = (mode, callback) =>
      mode === 'readwrite'
        ? Promise.race([looked, sleep(1000)]).then(() => real(mode, callback))
        : real(mode, callback);
    await proxy.faults({ method: 'DELETE', id, hold: true });
    let storedAtSend: OutboxEntry | undefined;
    const { box } = outbox(store, {
      send: async (target) => {
        storedAtSend = await get<OutboxEntry>(target, store);
        return callProxy('DELETE', target);
      },
    });
    const submitting = box.submit(url, id);
    await until(async () => (await proxy.deletes(id)).length === 1, 'the delete reached the proxy');
    const atArrival = await readThroughOwnConnection<OutboxEntry>(name, 'deletes', url);
    lookedAtArrival();
    await proxy.release();
    expect(atArrival?.sessionId, 'in IndexedDB when the request reached the proxy').to.equal(id);
    const result = await submitting;
    expect(storedAtSend?.sessionId).to.equal(id);
    expect(result).to.deep.equal({ sessionId: id, outcome: 'deleted', attempts: 1 });
    const after = await get<OutboxEntry>(url, real);
    expect(after?.settled?.outcome, 'kept as a tombstone once confirmed').to.equal('deleted');
  });

  it('after a time-out, waits out the abandoned request before sending again (never two at the proxy)', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    // Slower than the 2 s limit: the tab gives up on it, but an abort does not reach a keepalive
    // request at the server, which goes on with it.
    await proxy.faults({ method: 'DELETE', delayMs: 2500, times: 1 });
    const { box } = outbox();
    const first = await box.submit(url, id);
    expect(first.outcome).to.equal('queued');
    await until(async () => (await proxy.deletes(id))[1]?.outcome != null, 'the retry answered', 15_000);
    const [abandoned, retry] = await proxy.deletes(id);
    expect([abandoned.outcome, retry.outcome]).to.deep.equal(['deleted', 'already-gone']);
    // The wait runs from the first one's send; the proxy stamps arrivals (a few ms later, on its clock).
    expect(retry.at - abandoned.at, 'the retry waits for 1.5x the limit').to.be.at.least(2900);
    expect((await proxy.mostDeletesInFlight())[id], 'DELETEs in flight at once').to.equal(1);
  });

  it('retries 5xx and 429 (honouring Retry-After) until one success', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    await proxy.faults(
      { method: 'DELETE', status: 503, times: 2 },
      { method: 'DELETE', status: 429, retryAfter: 1, times: 1 },
    );
    const { box, settled } = outbox();
    const started = Date.now();
    const first = await box.submit(url, id);
    expect(first.outcome).to.equal('queued');
    await until(() => settled.some((d) => d.outcome === 'deleted'), 'deleted', 8000);
    expect(Date.now() - started, 'waited for Retry-After').to.be.greaterThan(900);
    expect(settled.map((d) => d.outcome)).to.deep.equal(['queued', 'queued', 'queued', 'deleted']);
    expect(settled.map((d) => d.status)).to.deep.equal([503, 503, 429, 200]);
    const deletes = await proxy.deletes(id);
    expect(deletes.map((d) => d.outcome)).to.deep.equal(['fault 503', 'fault 503', 'fault 429', 'deleted']);
  });

  it('retries dropped connections and time-outs', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    await proxy.faults({ method: 'DELETE', drop: true, times: 1 }, { method: 'DELETE', delayMs: 3000, times: 1 });
    const { box, settled } = outbox(undefined, { options: { ...fast, timeoutMs: 500 } });
    expect((await box.submit(url, id)).outcome).to.equal('queued');
    await until(() => settled.some((d) => d.outcome === 'deleted' || d.outcome === 'already-gone'), 'confirmed', 8000);
  });

  it('fails at once when the proxy refuses the request (400/401/403), and keeps it for the next load', async () => {
    for (const status of [400, 401, 403]) {
      const proxy = new FakeProxy();
      const { id, url } = await sessionAt(proxy);
      await proxy.faults({ method: 'DELETE', status, times: 1 });
      const { box, store, settled, scope } = outbox();
      box.attach(scope.signal, collection(proxy));
      expect((await box.submit(url, id)).outcome, String(status)).to.equal('failed');
      expect(settled[0].error).to.match(new RegExp(`${status}.*next load`));
      // A retry loop would keep the delete's worker on; once it has stopped nothing more is sent.
      await until(() => !box.pendingKeys.includes(url), 'the worker stopped');
      await proxy.requestsArrived();
      expect((await proxy.deletes(id)).length, 'no retry loop').to.equal(1);
      // Not on every return to the tab...
      await box.replay();
      await until(() => !box.pendingKeys.includes(url), 'the replay left it alone');
      await proxy.requestsArrived();
      expect((await proxy.deletes(id)).length).to.equal(1);
      const [[, kept]] = await entries<string, OutboxEntry>(store);
      expect(kept.failed?.status).to.equal(status);
      scope.abort();
      // ...but on the next load (the user may have signed in again), where it succeeds.
      const next = outbox(store);
      next.box.attach(next.scope.signal, collection(proxy));
      await until(() => next.settled.some((d) => d.outcome === 'deleted'), 'delivered on the next load');
      next.scope.abort();
    }
  });

  it('a new logout of a refused delete tries it again at once', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    await proxy.faults({ method: 'DELETE', status: 401, times: 1 });
    const { box } = outbox();
    expect((await box.submit(url, id)).outcome).to.equal('failed');
    expect((await box.submit(url, id)).outcome).to.equal('deleted');
  });

  it('no replay skips a Retry-After', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    await proxy.faults({ method: 'DELETE', status: 429, retryAfter: 2, times: 1 });
    const { box, settled } = outbox();
    const queuedAt = Date.now();
    expect((await box.submit(url, id)).outcome).to.equal('queued');
    // Replays at three points of the wait (the 100 ms only spaces them; the look below decides).
    for (let i = 0; i < 3; i++) {
      await box.replay();
      await sleep(100);
    }
    // Nothing marks the moment a replay that skipped the wait would have sent: look as late as the
    // Retry-After allows (its 2 s less a margin), long after any such send, at no cost (the test
    // waits for the Retry-After below anyway).
    await sleep(Math.max(0, queuedAt + 1500 - Date.now()));
    await proxy.requestsArrived();
    expect((await proxy.deletes(id)).length, 'nothing before Retry-After').to.equal(1);
    await until(() => settled.some((d) => d.outcome === 'deleted'), 'after Retry-After', 5000);
  });

  it('sends nothing more once the answer is final, even from a pagehide while it is being stored', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    const real = createStore(uniqueId('outbox'), 'deletes');
    let slow = false;
    // A store that is slow to write once the answer is in: the window a pagehide could fall into.
    const store: typeof real = (mode, callback) =>
      slow && mode === 'readwrite' ? sleep(150).then(() => real(mode, callback)) : real(mode, callback);
    const { box, scope } = outbox(store, {
      send: async (target) => {
        const answer = await callProxy('DELETE', target);
        slow = true;
        setTimeout(() => window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true })), 20);
        return answer;
      },
    });
    box.attach(scope.signal, collection(proxy));
    const pagehide = new Promise((resolve) => window.addEventListener('pagehide', resolve, { once: true }));
    expect((await box.submit(url, id)).outcome).to.equal('deleted');
    // A send from that pagehide would go out in its own task; by the time the worker has stored the
    // answer and stopped, and a request made after it has reached the proxy, it would be in the log.
    await pagehide;
    await until(() => !box.pendingKeys.includes(url), 'the answer stored');
    await proxy.requestsArrived();
    expect((await proxy.deletes(id)).length).to.equal(1);
    const [[, entry]] = await entries<string, OutboxEntry>(real);
    expect(entry.settled?.outcome).to.equal('deleted');
    scope.abort();
  });

  it('a page hidden into the back/forward cache gives the work back; no second request overlaps the first', async function () {
    this.timeout(15_000);
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    await proxy.faults({ method: 'DELETE', delayMs: 800, times: 1 });
    const store = createStore(uniqueId('outbox'), 'deletes');
    const journal = new OutboxJournal(uniqueId('journal:'));
    const hidden = outbox(store, { channel: new TabChannel(), journal });
    hidden.box.attach(hidden.scope.signal, collection(proxy));
    const first = hidden.box.submit(url, id);
    const lockName = `konpro-widget-guard:delete:${url}`;
    const held = async () => (await navigator.locks.query()).held?.some((lock) => lock.name === lockName);
    await until(async () => (await held()) === true, 'the first attempt under way, under the lock');
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
    expect((await first).outcome, 'the logout is told where it stands').to.equal('queued');
    await until(async () => (await held()) === false, 'a cached page holds no lock', 1000);
    // The page comes back (its channel reopens) while the other tab works on the delete.
    window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
    // Another tab takes the delete from storage, and lets the request in flight have its time.
    const other = outbox(store, { channel: new TabChannel(), journal });
    other.box.attach(other.scope.signal, collection(proxy));
    await until(
      () => other.settled.some((d) => d.outcome === 'deleted' || d.outcome === 'already-gone'),
      'confirmed in the other tab',
      8000,
    );
    const deletes = await proxy.deletes(id);
    expect(deletes.map((d) => d.outcome)).to.deep.equal(['deleted']);
    expect((await get<OutboxEntry>(url, store))?.settled?.outcome).to.equal('deleted');
    hidden.scope.abort();
    other.scope.abort();
  });

  it('a closing page does not send again while an earlier attempt may still be in flight', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    const store = createStore(uniqueId('outbox'), 'deletes');
    // Left by a tab that closed with its request in flight a moment ago.
    await set(
      url,
      { url, sessionId: id, createdAt: Date.now(), attempts: 1, nextAttemptAt: 0, notBefore: Date.now() + 1500 },
      store,
    );
    // The worker holds the entry (where a pagehide would send it from) once it has read it.
    let entryRead!: () => void;
    const read = new Promise<void>((resolve) => (entryRead = resolve));
    const watched: typeof store = (mode, callback) => {
      const result = store(mode, callback);
      // (The worker's own read of the entry, not the replay's listing of every entry.)
      if (mode === 'readonly')
        void result.then((value) => (value as OutboxEntry | undefined)?.url === url && entryRead());
      return result;
    };
    const { box, scope } = outbox(watched);
    box.attach(scope.signal, collection(proxy));
    await until(() => box.pendingKeys.includes(url), 'replayed');
    await read;
    await sleep(0); // (the worker takes the entry in the task the read completes in)
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
    // A send from the pagehide goes out in that event's own task: a request made after it reaches
    // the proxy after it.
    await proxy.requestsArrived();
    expect(await proxy.deletes(id), 'nothing sent over the request that may be in flight').to.deep.equal([]);
    scope.abort();
  });

  it('a request a closing page marks while a replay takes up its journal entry still holds the next send back', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    const journal = new OutboxJournal(uniqueId('journal:'));
    // A page logged out and is closing: its delete is only in the journal so far.
    journal.add({ url, sessionId: id, createdAt: Date.now() });
    const { box, settled, scope } = outbox(undefined, {
      channel: new TabChannel(),
      journal,
      options: { ...fast, timeoutMs: 400 },
    });
    box.useProxy(collection(proxy));
    // This tab (back online, say) reads the journal, then writes what it read to IndexedDB...
    const replaying = box.replay();
    // ...while the closing page sends the delete (keepalive) and marks its request.
    const sentAt = Date.now();
    journal.markSent({ url, sessionId: id, createdAt: sentAt }, sentAt);
    await replaying;
    expect(journal.sentAt(url), 'the mark of the request out').to.equal(sentAt);
    await until(() => settled.some((d) => d.outcome === 'deleted'), 'delivered', 5000);
    const [first] = await proxy.deletes(id);
    // The closing page's request may be out for 1.5 × the attempt's limit: this tab waits it out.
    expect(first.at - sentAt, 'ms before this tab sent').to.be.at.least(600);
    scope.abort();
  });

  it('survives IndexedDB failing after the first write (falls back to what it wrote)', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    const real = createStore(uniqueId('outbox'), 'deletes');
    let calls = 0;
    const store: typeof real = (mode, callback) =>
      ++calls > 1 ? Promise.reject(new Error('connection lost')) : real(mode, callback);
    const errors: unknown[] = [];
    const { box } = outbox(store);
    box.onStorageError = (error) => errors.push(error);
    expect((await box.submit(url, id)).outcome).to.equal('deleted');
    expect((await proxy.deletes(id)).length).to.equal(1);
    expect(errors.length).to.equal(1);
  });

  it('treats a gone session as done (already-gone)', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    await proxy.faults({ method: 'DELETE', status: 404 });
    expect((await outbox().box.submit(url, id)).outcome).to.equal('already-gone');
  });

  it('does not send a confirmed delete again (tombstone), even from another tab', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    const store = createStore(uniqueId('outbox'), 'deletes');
    await outbox(store).box.submit(url, id);
    const again = await outbox(store).box.submit(url, id);
    expect(again.outcome).to.equal('deleted');
    expect((await proxy.deletes(id)).length).to.equal(1);
  });

  it('gives up entries older than the bound, with an explicit event', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    await proxy.faults({ method: 'DELETE', status: 503, times: 100 });
    let now = Date.now();
    const { box, store, settled } = outbox(undefined, { now: () => now, options: { ...fast, maxAgeMs: 60_000 } });
    expect((await box.submit(url, id)).outcome).to.equal('queued');
    now += 61_000;
    await until(() => settled.some((d) => d.outcome === 'failed'), 'given up', 5000);
    expect(settled.at(-1)!.error).to.match(/gave up/);
    expect(await entries(store)).to.deep.equal([]);
  });

  it('writes from several tabs at once lose nothing', async () => {
    const proxy = new FakeProxy();
    const store = createStore(uniqueId('outbox'), 'deletes');
    await proxy.faults({ method: 'DELETE', status: 503, times: 1000 });
    const tabs = Array.from({ length: 5 }, () => outbox(store));
    const sessions = await Promise.all(Array.from({ length: 20 }, () => sessionAt(proxy)));
    await Promise.all(sessions.map((s, i) => tabs[i % 5].box.submit(s.url, s.id)));
    const stored = (await entries<string, OutboxEntry>(store)).map(([, e]) => e.sessionId).sort();
    expect(stored).to.deep.equal(sessions.map((s) => s.id).sort());
    for (const tab of tabs) tab.scope.abort();
  });

  it('one tab sends while the others wait, and they all hear the outcome', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    await proxy.faults({ method: 'DELETE', delayMs: 300, times: 1 });
    const store = createStore(uniqueId('outbox'), 'deletes');
    // Separate channels stand for separate tabs (BroadcastChannel skips only its own object).
    const tabs = Array.from({ length: 5 }, () => outbox(store, { channel: new TabChannel() }));
    const results = await Promise.all(tabs.map((t) => t.box.submit(url, id)));
    expect(results.map((r) => r.outcome)).to.deep.equal(['deleted', 'deleted', 'deleted', 'deleted', 'deleted']);
    expect((await proxy.deletes(id)).length).to.equal(1);
  });

  it('works with the IndexedDB lease where Web Locks are missing', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    await proxy.faults({ method: 'DELETE', delayMs: 200, times: 1 });
    const store = createStore(uniqueId('outbox'), 'deletes');
    const leases = createStore(uniqueId('leases'), 'leases');
    const tabs = Array.from({ length: 3 }, () =>
      outbox(store, { channel: new TabChannel(), locks: new LeaseLocks(leases, { ttlMs: 1000, pollMs: 50 }) }),
    );
    const results = await Promise.all(tabs.map((t) => t.box.submit(url, id)));
    expect(results.every((r) => r.outcome === 'deleted')).to.equal(true);
    expect((await proxy.deletes(id)).length).to.equal(1);
  });

  it('keeps working in memory where IndexedDB is unavailable', async () => {
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    const box = new DeleteOutbox({ store: null, options: fast });
    expect(box.persistent).to.equal(false);
    expect((await box.submit(url, id)).outcome).to.equal('deleted');
  });
});

async function openOutboxTab(storeName: string, proxy: FakeProxy): Promise<number> {
  const tab = await executeServerCommand<number, { url: string }>('tab-open', {
    url: `/test/fixtures/outbox-tab.html?store=${storeName}&proxy=${proxy.url}`,
  });
  await until(
    async () => (await executeServerCommand('tab-eval', { id: tab, expression: 'window.ready === true' })) === true,
    'tab ready',
  );
  return tab;
}

const inTab = <T>(id: number, expression: string) =>
  executeServerCommand<T, { id: number; expression: string }>('tab-eval', { id, expression });

describe('DeleteOutbox across tabs (real pages)', () => {
  it('an offline logout is queued, then delivered when the page is back online', async function () {
    this.timeout(20_000);
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    const tab = await openOutboxTab(uniqueId('outbox'), proxy);
    try {
      await executeServerCommand('tab-offline', { id: tab, offline: true });
      // A retry far away: only the `online` event can deliver it within the test.
      await inTab(tab, 'window.outbox.options.backoff = { baseMs: 60000, capMs: 60000 }, true');
      const first = await inTab<{ outcome: string }>(
        tab,
        `window.outbox.submit(${JSON.stringify(url)}, ${JSON.stringify(id)})`,
      );
      expect(first.outcome).to.equal('queued');
      expect(await proxy.deletes(id)).to.deep.equal([]);
      await executeServerCommand('tab-offline', { id: tab, offline: false });
      await until(
        async () =>
          (await inTab<Array<{ outcome: string }>>(tab, 'window.settled')).some((d) => d.outcome === 'deleted'),
        'delivered after reconnect',
        8000,
      );
      expect((await proxy.deletes(id)).map((d) => d.outcome)).to.deep.equal(['deleted']);
    } finally {
      await executeServerCommand('tab-close', { id: tab });
    }
  });

  it('a delete pending when the tab closes is delivered on the next load', async function () {
    this.timeout(30_000);
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    const storeName = uniqueId('outbox');
    // Answers slower than the tab's 2 s limit: time-outs (the attempt at close included).
    await proxy.faults({ method: 'DELETE', delayMs: 4000, times: 2 });
    const tab = await openOutboxTab(storeName, proxy);
    await inTab(tab, 'window.outbox.options.backoff = { baseMs: 60000, capMs: 60000 }, true');
    expect(
      (await inTab<{ outcome: string }>(tab, `window.outbox.submit(${JSON.stringify(url)}, ${JSON.stringify(id)})`))
        .outcome,
    ).to.equal('queued');
    await executeServerCommand('tab-close', { id: tab });
    const next = await openOutboxTab(storeName, proxy); // "reload": a new page of the origin
    try {
      await until(
        async () =>
          (await inTab<Array<{ outcome: string }>>(next, 'window.settled')).some((d) => d.outcome === 'deleted'),
        'delivered on load',
        8000,
      );
    } finally {
      await executeServerCommand('tab-close', { id: next });
    }
  });

  it('a logout whose page is destroyed in the same task is still delivered', async function () {
    this.timeout(20_000);
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    const storeName = uniqueId('outbox');
    // The one send the dying page manages (keepalive, at pagehide) fails: only the journal can save it.
    await proxy.faults({ method: 'DELETE', status: 503, times: 1 });
    const frame = document.createElement('iframe');
    frame.src = `/test/fixtures/outbox-tab.html?store=${storeName}&proxy=${proxy.url}`;
    document.body.append(frame);
    await until(() => (frame.contentWindow as unknown as { ready?: boolean }).ready === true, 'tab ready');
    const dying = frame.contentWindow as unknown as { outbox: DeleteOutbox };
    void dying.outbox.submit(url, id).catch(() => {});
    frame.remove(); // before IndexedDB can have committed anything
    const next = document.createElement('iframe');
    next.src = `/test/fixtures/outbox-tab.html?store=${storeName}&proxy=${proxy.url}`;
    document.body.append(next);
    try {
      await until(
        async () => (await proxy.deletes(id)).some((d) => d.outcome === 'deleted'),
        'delivered by the next page',
        10_000,
      );
    } finally {
      next.remove();
    }
  });

  it('a killed sender’s delete is finished by another tab', async function () {
    this.timeout(30_000);
    const proxy = new FakeProxy();
    const { id, url } = await sessionAt(proxy);
    const storeName = uniqueId('outbox');
    // The first attempt hangs long enough for the sender to be killed mid-request.
    await proxy.faults({ method: 'DELETE', delayMs: 4000, times: 1 });
    const sender = await executeServerCommand<number, { url: string }>('tab-open', {
      url: `/test/fixtures/outbox-tab.html?store=${storeName}&proxy=${proxy.url}`,
    });
    await until(
      async () =>
        (await executeServerCommand('tab-eval', { id: sender, expression: 'window.ready === true' })) === true,
      'sender ready',
    );
    await executeServerCommand('tab-eval', {
      id: sender,
      expression: `void window.outbox.submit(${JSON.stringify(url)}, ${JSON.stringify(id)}), true`,
    });
    await until(async () => (await proxy.deletes(id)).length === 1, 'first attempt under way');
    // Another tab of the origin picks the delete up from storage (replay on load) and waits for the lock.
    const store = createStore(storeName, 'deletes');
    const { box, settled, scope } = outbox(store, { channel: new TabChannel() });
    box.attach(scope.signal, collection(proxy));
    // This tab has taken the delete up and waits for the sender's lock on it (the moment it would
    // otherwise have sent); a request made after that has reached the proxy after such a send.
    const lock = `konpro-widget-guard:delete:${url}`;
    await until(
      async () => ((await navigator.locks.query()).pending ?? []).some((l) => l.name === lock),
      'this tab waiting for the lock on the delete',
    );
    await proxy.requestsArrived();
    expect(settled, 'nobody else sends while the sender lives').to.deep.equal([]);
    expect((await proxy.deletes(id)).length, 'the sender’s request only').to.equal(1);
    await executeServerCommand('tab-crash', { id: sender });
    await until(
      () => settled.some((d) => d.outcome === 'deleted' || d.outcome === 'already-gone'),
      'finished by the other tab',
      10_000,
    );
    const all = await entries<string, OutboxEntry>(store);
    expect(all.every(([, e]) => e.settled)).to.equal(true);
    scope.abort();
  });
});
