// The kiosk wipe (src/teardown/wipe.ts): what the `wipe` attribute lists, and never the guard's own stores.
import { expect } from '@esm-bundle/chai';
import { parseWipe, wipe } from '../../src/teardown/wipe.js';
import { uniqueId } from '../support/helpers.js';

/** Creates database `name` and closes it (an open connection would block its deletion). */
function databaseWith(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore('x');
    request.onsuccess = () => {
      request.result.close();
      resolve();
    };
    request.onerror = () => reject(request.error ?? new Error('open failed'));
  });
}

describe('wipe', () => {
  it('parses kind:name entries and reports the others', () => {
    const { list, errors } = parseWipe('localStorage:a-* sessionStorage:b cookie:c_{session_id} indexedDB:d nope x:y');
    expect(list).to.deep.equal({
      localStorage: ['a-*'],
      sessionStorage: ['b'],
      indexedDB: ['d'],
      cookie: ['c_{session_id}'],
    });
    expect(errors.length).to.equal(2);
    expect(parseWipe(null)).to.deep.equal({
      list: { localStorage: [], sessionStorage: [], indexedDB: [], cookie: [] },
      errors: [],
    });
  });

  it('wipes storage keys, cookies and databases that match, with {session_id}, and nothing else', async () => {
    const id = uniqueId();
    const tag = uniqueId('t');
    localStorage.setItem(`${tag}-one`, '1');
    localStorage.setItem(`${tag}-two`, '2');
    localStorage.setItem(`keep-${tag}`, '3');
    localStorage.setItem(`konpro-widget-guard-${tag}`, 'own');
    sessionStorage.setItem(`s-${id}`, '1');
    document.cookie = `c_${id}=1; Path=/`;
    document.cookie = `keep_${tag}=1; Path=/`;
    const db = `db-${id}`;
    await databaseWith(db);
    const { list } = parseWipe(
      `localStorage:${tag}-* localStorage:konpro-widget-guard-* sessionStorage:s-{session_id} cookie:c_{session_id} indexedDB:db-{session_id}`,
    );
    expect((await indexedDB.databases()).map((d) => d.name)).to.include(db);
    await wipe(list, id);
    expect(localStorage.getItem(`${tag}-one`)).to.equal(null);
    expect(localStorage.getItem(`${tag}-two`)).to.equal(null);
    expect(localStorage.getItem(`keep-${tag}`)).to.equal('3');
    expect(localStorage.getItem(`konpro-widget-guard-${tag}`), "the guard's own keys stay").to.equal('own');
    expect(sessionStorage.getItem(`s-${id}`)).to.equal(null);
    expect(document.cookie).not.to.contain(`c_${id}=`);
    expect(document.cookie).to.contain(`keep_${tag}=1`);
    expect((await indexedDB.databases()).map((d) => d.name)).not.to.include(db);
    localStorage.removeItem(`keep-${tag}`);
    localStorage.removeItem(`konpro-widget-guard-${tag}`);
    document.cookie = `keep_${tag}=; Max-Age=0; Path=/`;
  });
});
