import { expect } from '@esm-bundle/chai';
import fc from 'fast-check';
import { createStore, entries } from 'idb-keyval';
import type { OutboxEntry } from '../../src/outbox/outbox.js';
import { FakeProxy, sleep, uniqueId, until } from '../support/helpers.js';
import { openOutboxTab as openTab, pendingDeletes, type OutboxTab } from '../support/outbox-tabs.js';

/**
 * Random interleavings of logouts in several tabs, proxy failures (5xx, 429,
 * dropped connections, slow answers past the time limit), tab reloads that
 * kill whatever the tab was doing, and pauses. Whatever happens, once the
 * tabs are left alone every logged-out session is confirmed deleted, nothing
 * stays pending, and sessions nobody logged out are untouched.
 */

type Command =
  | { kind: 'logout'; tab: number; session: number }
  | { kind: 'fault'; fault: keyof typeof FAULTS }
  | { kind: 'reload'; tab: number }
  | { kind: 'pause'; ms: number };

const TABS = 3;
const SESSIONS = 4;

/**
 * Each attempt's time limit in the tabs. A slow answer comes just past it (a time-out), and well within
 * the 1.5× of it that the outbox waits out before sending that session again.
 */
const TIMEOUT_MS = 1200;

const FAULTS = {
  status503: { method: 'DELETE', status: 503 },
  status429: { method: 'DELETE', status: 429, retryAfter: 0 },
  drop: { method: 'DELETE', drop: true },
  slow: { method: 'DELETE', delayMs: TIMEOUT_MS + 100 }, // a time-out
};

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('logout' as const),
      tab: fc.nat(TABS - 1),
      session: fc.nat(SESSIONS - 1),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('fault' as const),
      fault: fc.constantFrom<keyof typeof FAULTS>('status503', 'status429', 'drop', 'slow'),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reload' as const), tab: fc.nat(TABS - 1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 120 }) }) },
);

describe('DeleteOutbox under random interleavings (fast-check)', () => {
  it('every logout is eventually confirmed, exactly once, and nothing is lost', async function () {
    this.timeout(180_000);
    const host = document.createElement('div');
    document.body.append(host);
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: 4, maxLength: 14 }), async (commands) => {
          const proxy = new FakeProxy();
          const storeName = uniqueId('prop');
          const sessions = Array.from({ length: SESSIONS }, () => uniqueId('p'));
          for (const id of sessions) await proxy.session(id);
          const urlOf = (id: string) => new URL(`${proxy.url}/${id}`, location.href).href;
          const tabs = await Promise.all(
            Array.from({ length: TABS }, () => openTab(host, storeName, proxy, TIMEOUT_MS)),
          );
          const loggedOut = new Set<string>();

          for (const step of commands) {
            if (step.kind === 'logout') {
              const id = sessions[step.session];
              loggedOut.add(id);
              // Not awaited: the tab carries on while the next command runs.
              void (tabs[step.tab].contentWindow as OutboxTab).outbox.submit(urlOf(id), id).catch(() => {});
            } else if (step.kind === 'fault') {
              await proxy.faults(FAULTS[step.fault]);
            } else if (step.kind === 'reload') {
              tabs[step.tab].remove(); // the tab dies mid-whatever
              tabs[step.tab] = await openTab(host, storeName, proxy, TIMEOUT_MS);
            } else {
              await sleep(step.ms);
            }
          }

          // Pending: in IndexedDB and not settled, or still only in the journal of a page that died.
          await until(async () => (await pendingDeletes(storeName)) === 0, 'outbox drained', 30_000);

          const log = await proxy.deletes();
          for (const id of sessions) {
            const confirmations = log.filter((e) => e.id === id && e.outcome === 'deleted').length;
            expect(confirmations, `session ${id} confirmed`).to.equal(loggedOut.has(id) ? 1 : 0);
            if (!loggedOut.has(id))
              expect(
                log.filter((e) => e.id === id),
                `no delete for ${id}`,
              ).to.deep.equal([]);
          }
          const tombstones = (await entries<string, OutboxEntry>(createStore(storeName, 'deletes')))
            .map(([, e]) => e.sessionId)
            .sort();
          expect(tombstones).to.deep.equal([...loggedOut].sort());
          for (const tab of tabs) tab.remove();
        }),
        { numRuns: 25, interruptAfterTimeLimit: 150_000 },
      );
    } finally {
      host.remove();
    }
  });
});
