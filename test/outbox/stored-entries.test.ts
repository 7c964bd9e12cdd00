import { expect } from '@esm-bundle/chai';
import { createStore, entries, set } from 'idb-keyval';
import { DeleteOutbox, type OutboxEntry } from '../../src/outbox/outbox.js';
import { OutboxJournal } from '../../src/outbox/journal.js';
import type { DeleteDetail } from '../../src/element/events.js';
import { FakeProxy, uniqueId, until } from '../support/helpers.js';

/**
 * Storage is the origin's: anything that ran on it once could have planted a
 * delete. A replay sends a stored delete only to the resource URL of its own
 * session under a proxy a guard of the page uses, on the page's origin; it
 * drops (and reports) anything else, and a date in the future cannot keep an
 * entry alive.
 */

const fast = { backoff: { baseMs: 30, capMs: 200 }, timeoutMs: 2000 };
const collection = (proxy: FakeProxy) => new URL(proxy.url, location.href).href;
/** This server under another host name: another origin. */
const otherOrigin = `${location.protocol}//${location.hostname === '127.0.0.1' ? 'localhost' : '127.0.0.1'}:${location.port}`;

function entry(url: string, sessionId: string, change: Partial<OutboxEntry> = {}): OutboxEntry {
  return { url, sessionId, createdAt: Date.now(), attempts: 0, nextAttemptAt: 0, ...change };
}

function outbox(options: Partial<DeleteOutbox['options']> = {}) {
  const store = createStore(uniqueId('planted'), 'deletes');
  const journal = new OutboxJournal(uniqueId('planted-journal:'));
  const box = new DeleteOutbox({ store, journal, options: { ...fast, ...options } });
  const settled: DeleteDetail[] = [];
  const dropped: Array<{ url: string; reason: string }> = [];
  const scope = new AbortController();
  box.subscribe((d) => settled.push(d), scope.signal);
  box.onDroppedDelete = (url, reason) => dropped.push({ url, reason });
  return { box, store, journal, settled, dropped, scope };
}

describe('stored deletes a replay will not send', () => {
  it('drops planted entries unsent, reports each, and still delivers the genuine one', async function () {
    this.timeout(20_000);
    const proxy = new FakeProxy();
    const elsewhere = new FakeProxy(); // a same-origin path that is not this page's proxy
    const genuine = uniqueId('genuine');
    await proxy.session(genuine);
    const victim = uniqueId('victim');
    await proxy.session(victim);
    await elsewhere.session(victim);
    const own = (id: string) => `${collection(proxy)}/${id}`;
    const { box, store, journal, settled, dropped, scope } = outbox();

    const planted: OutboxEntry[] = [
      entry(`${otherOrigin}${proxy.url}/${victim}`, victim), // another origin
      entry(own(uniqueId('someone')), victim), // the URL of another session than its own
      entry(`${collection(proxy)}/../../account/${victim}`, victim), // unnormalised segments
      { ...entry(own(victim), victim), attempts: Number.NaN }, // not a record the outbox writes
    ];
    for (const bad of planted) await set(bad.url, bad, store);
    await set(`${own(victim)}#key`, entry(own(victim), victim), store); // stored under another key than its URL
    await set(own(genuine), entry(own(genuine), genuine), store);
    // Same shape as a genuine delete, but under a path no guard of this page uses: kept for whoever does.
    const foreign = entry(`${collection(elsewhere)}/${victim}`, victim);
    await set(foreign.url, foreign, store);
    // So is one under this proxy with a query added: the resource URL of a proxy `…?then=…`, which no guard here uses.
    const queried = entry(`${collection(proxy)}?then=/account/delete`.replace('?', `/${victim}?`), victim);
    await set(queried.url, queried, store);
    // Planted in the journal too (a page that closed before IndexedDB had it, as far as a replay can tell).
    journal.add({ url: `${otherOrigin}/api/account/${victim}`, sessionId: victim, createdAt: Date.now() });

    box.attach(scope.signal, collection(proxy));
    await until(() => settled.some((d) => d.sessionId === genuine && d.outcome === 'deleted'), 'genuine delivered');
    await until(() => dropped.length === planted.length + 2, `all dropped (${JSON.stringify(dropped)})`);
    for (const { reason } of dropped) expect(reason, 'each says why').to.be.a('string').and.not.equal('');

    await proxy.requestsArrived();
    await elsewhere.requestsArrived();
    expect(await proxy.deletes(victim), 'nothing sent for the planted entries').to.deep.equal([]);
    expect(await elsewhere.deletes(), 'nothing sent to a path that is not the proxy').to.deep.equal([]);
    expect((await proxy.deletes(genuine)).map((d) => d.outcome)).to.deep.equal(['deleted']);
    const left = (await entries<string, OutboxEntry>(store)).map(([key]) => key).sort();
    expect(left, 'only the genuine tombstone and the other proxies’ entries are left').to.deep.equal(
      [own(genuine), foreign.url, queried.url].sort(),
    );
    expect(journal.entries(), 'the planted journal entry is gone').to.deep.equal([]);
    scope.abort();
  });

  it('sends a stored delete of another proxy only once a guard of the page uses that proxy', async function () {
    this.timeout(15_000);
    const first = new FakeProxy();
    const second = new FakeProxy();
    const id = uniqueId('second');
    await second.session(id);
    const { box, store, settled, dropped, scope } = outbox();
    const url = `${collection(second)}/${id}`;
    await set(url, entry(url, id), store);
    box.attach(scope.signal, collection(first));
    await box.replay(true); // as the load's replay does: once it is through, whatever it took up is pending
    expect(box.pendingKeys, 'not taken up').to.deep.equal([]);
    // What a replay would have sent went out before this marker (same browser, same server).
    await second.requestsArrived();
    expect(await second.deletes(id), 'not sent for a guard of another proxy').to.deep.equal([]);
    box.useProxy(collection(second));
    await until(() => settled.some((d) => d.sessionId === id && d.outcome === 'deleted'), 'delivered');
    expect(dropped).to.deep.equal([]);
    scope.abort();
  });

  it('a delete dated in the future still expires at the age limit', async function () {
    this.timeout(15_000);
    const proxy = new FakeProxy();
    const id = uniqueId('future');
    await proxy.session(id);
    // The proxy never confirms it: only the age limit can end it.
    await proxy.faults({ method: 'DELETE', status: 503, times: 1000 });
    const { box, store, settled, scope } = outbox({ maxAgeMs: 1500 });
    const url = `${collection(proxy)}/${id}`;
    const tenYears = 10 * 365 * 24 * 3600_000;
    await set(url, entry(url, id, { createdAt: Date.now() + tenYears, notBefore: Date.now() + tenYears }), store);
    box.attach(scope.signal, collection(proxy));
    await until(
      () => settled.some((d) => d.outcome === 'failed' && /age limit/.test(d.error ?? '')),
      'given up at the age limit',
      10_000,
    );
    expect((await proxy.deletes(id)).length, 'tried meanwhile (its far-off wait was clamped)').to.be.greaterThan(0);
    expect(await entries(store), 'removed').to.deep.equal([]);
    scope.abort();
  });
});
