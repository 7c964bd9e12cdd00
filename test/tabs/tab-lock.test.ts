// Tab locks (src/tabs/tab-lock.ts): one holder at a time across the origin; a dead holder's lease lapses.
import { expect } from '@esm-bundle/chai';
import { createStore, set } from 'idb-keyval';
import { LeaseLocks, tabLocks } from '../../src/tabs/tab-lock.js';
import { sleep, uniqueId } from '../support/helpers.js';

async function exclusive(run: (work: () => Promise<number>) => Promise<unknown>) {
  let holders = 0;
  let most = 0;
  const work = async () => {
    holders += 1;
    most = Math.max(most, holders);
    await sleep(30);
    holders -= 1;
    return most;
  };
  await Promise.all([run(work), run(work), run(work)]);
  return most;
}

describe('tab locks', () => {
  it('Web Locks: one holder at a time', async () => {
    const locks = tabLocks();
    const name = uniqueId('lock');
    expect(await exclusive((work) => locks.run(name, work))).to.equal(1);
  });

  it('IndexedDB leases: one holder at a time, between lock managers of three tabs', async () => {
    const store = createStore(uniqueId('leases'), 'leases');
    const tabs = [1, 2, 3].map(() => new LeaseLocks(store, { ttlMs: 2000, pollMs: 20 }));
    const name = uniqueId('lock');
    let i = 0;
    expect(await exclusive((work) => tabs[i++].run(name, work))).to.equal(1);
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
