/**
 * "Tabs" of the outbox property tests: frames of test/fixtures/outbox-tab.html,
 * each its own realm with its own DeleteOutbox on one IndexedDB database and
 * journal prefix (the run's `storeName`), as real pages of the origin share them.
 */
import { createStore, entries } from 'idb-keyval';
import type { DeleteOutbox, OutboxEntry } from '../../src/outbox/outbox.js';
import { OutboxJournal } from '../../src/outbox/journal.js';
import { type FakeProxy, until } from './helpers.js';

export interface OutboxTab extends Window {
  outbox: DeleteOutbox;
  ready?: boolean;
}

/**
 * Opens a tab whose outbox uses `storeName` and attaches with `proxy`'s collection URL; `timeoutMs` is
 * each attempt's time limit there.
 */
export async function openOutboxTab(
  host: HTMLElement,
  storeName: string,
  proxy: FakeProxy,
  timeoutMs: number,
): Promise<HTMLIFrameElement> {
  const frame = document.createElement('iframe');
  const query = new URLSearchParams({ store: storeName, proxy: proxy.url, timeoutMs: String(timeoutMs) });
  frame.src = `/test/fixtures/outbox-tab.html?${query.toString()}`;
  host.append(frame);
  await until(() => (frame.contentWindow as OutboxTab | null)?.ready === true, 'tab ready');
  return frame;
}

/** How many deletes of `storeName` are unconfirmed: in IndexedDB unsettled, or only in the journal. */
export async function pendingDeletes(storeName: string): Promise<number> {
  const unsettled = (await entries<string, OutboxEntry>(createStore(storeName, 'deletes'))).filter(
    ([, entry]) => !entry.settled,
  );
  return unsettled.length + new OutboxJournal(`${storeName}:`).entries().length;
}
