// Tab locks (src/tabs/tab-lock.ts): one holder at a time across the origin; a dead holder's lease lapses.
import { expect } from '@esm-bundle/chai';
import { createStore, set } from 'idb-keyval';
import { LeaseLocks, tabLocks } from '../../src/tabs/tab-lock.js';
import { uniqueId, until } from '../support/helpers.js';

/**
 * Three runs of one lock at once, one per tab; the most holders seen at one time. Each holder keeps
 * the lock until every run yet to hold it has asked for it and been kept waiting (`waitingSince`,
 * asked as the holder starts), so a lock that let a second holder in has let it in by then: how long
 * the others take to ask decides nothing.
 */
async function exclusive(
  run: (tab: number, work: () => Promise<number>) => Promise<unknown>,
  waitingSince: (others: number[]) => () => Promise<boolean>,
) {
  let holders = 0;
  let most = 0;
  const yetToHold = new Set([0, 1, 2]);
  const work = (tab: number) => async () => {
    holders += 1;
    most = Math.max(most, holders);
    yetToHold.delete(tab);
    const othersWaiting = waitingSince([...yetToHold]);
    // (A second holder seen already fails the test: no need to wait for anything then.)
    await until(async () => most > 1 || (await othersWaiting()), 'the other runs waiting for the lock');
    holders -= 1;
    return most;
  };
  await Promise.all([0, 1, 2].map((tab) => run(tab, work(tab))));
  return most;
}

describe('tab locks', () => {
  it('Web Locks: one holder at a time', async () => {
    const locks = tabLocks();
    const name = uniqueId('lock');
    const pending = async () => ((await navigator.locks.query()).pending ?? []).filter((l) => l.name === name).length;
    const waitingSince = (others: number[]) => async () => (await pending()) >= others.length;
    expect(await exclusive((_tab, work) => locks.run(name, work), waitingSince)).to.equal(1);
  });

  it('IndexedDB leases: one holder at a time, between lock managers of three tabs', async () => {
    const store = createStore(uniqueId('leases'), 'leases');
    // Each tab's claims, counted by their read (a claim writes, then reads whose lease it is): a read
    // begun after the holder took the lease ends a claim made while it held it, so one refused.
    const claims = [0, 0, 0];
    const tabs = claims.map(
      (_, tab) =>
        new LeaseLocks(
          (mode, callback) => {
            if (mode === 'readonly') claims[tab] += 1;
            return store(mode, callback);
          },
          { ttlMs: 2000, pollMs: 20 },
        ),
    );
    const name = uniqueId('lock');
    const waitingSince = (others: number[]) => {
      const before = others.map((tab) => claims[tab]);
      return () => Promise.resolve(others.every((tab, k) => claims[tab] > before[k]));
    };
    expect(await exclusive((tab, work) => tabs[tab].run(name, work), waitingSince)).to.equal(1);
  });

  it('a lease of a tab that died lapses after its ttl; an aborted wait runs nothing', async () => {
    const store = createStore(uniqueId('leases'), 'leases');
    const name = uniqueId('lock');
    const until = Date.now() + 300;
    await set(name, { owner: 'dead-tab', until }, store);
    const locks = new LeaseLocks(store, { ttlMs: 2000, pollMs: 20 });
    const waiting = new AbortController();
    const aborted = locks.run(name, () => Promise.resolve('ran'), waiting.signal);
    waiting.abort();
    expect(await aborted).to.equal(undefined);
    expect(await locks.run(name, () => Promise.resolve('ran'))).to.equal('ran');
    expect(Date.now(), "not before the dead tab's lease lapsed").to.be.at.least(until);
  });
});
