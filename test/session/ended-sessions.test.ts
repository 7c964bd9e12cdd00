// Ended sessions (src/session/ended-sessions.ts): never mounted again, across pages; memory when storage fails.
import { expect } from '@esm-bundle/chai';
import { createStore, get, set, type UseStore } from 'idb-keyval';
import { EndedSessions } from '../../src/session/ended-sessions.js';
import { uniqueId } from '../support/helpers.js';

describe('ended sessions', () => {
  it('knows an ended id at once, and another page (another instance) finds it in IndexedDB', async () => {
    const store = createStore(uniqueId('ended'), 'ended');
    const here = new EndedSessions(store);
    const id = uniqueId();
    const written = here.add(id, 'logout');
    expect(here.knows(id), 'in the same task').to.equal(true);
    await written;
    const elsewhere = new EndedSessions(store);
    expect(elsewhere.knows(id)).to.equal(false);
    expect(await elsewhere.has(id)).to.equal(true);
    expect(elsewhere.knows(id), 'remembered once read').to.equal(true);
    expect((await get<{ reason: string }>(id, store))?.reason).to.equal('logout');
  });

  it('forgets records past their age, and keeps at most maxEntries', async () => {
    const store = createStore(uniqueId('ended'), 'ended');
    let now = 1_000_000;
    const ended = new EndedSessions(store, { maxAgeMs: 1000, maxEntries: 2 }, () => now);
    await set('old', { endedAt: now - 5000, reason: 'logout' }, store);
    expect(await ended.has('old')).to.equal(false);
    for (const id of ['a', 'b', 'c']) ended.remember(id, { endedAt: now, reason: 'logout' });
    expect(ended.knows('a')).to.equal(false);
    expect(ended.knows('c')).to.equal(true);
    now += 2000;
    expect(ended.knows('c'), 'stale').to.equal(false);
  });

  it('when IndexedDB fails, says so once and keeps the guarantee in memory', async () => {
    const broken = ((_mode: unknown, _callback: unknown) =>
      Promise.reject(new Error('blocked'))) as unknown as UseStore;
    const ended = new EndedSessions(broken);
    const errors: unknown[] = [];
    ended.onStorageError = (error) => errors.push(error);
    await ended.add('x', 'terminated');
    await ended.add('y', 'terminated');
    expect(errors.length).to.equal(1);
    expect(ended.knows('x') && ended.knows('y')).to.equal(true);
    expect(await ended.has('x')).to.equal(true);
    expect(await ended.has('z')).to.equal(false);
  });
});
