// Rotating `secret`: an operator puts the new secret first and keeps the old one after it
// (`secret: [next, previous]`). Bindings made under the old one still prove ownership, so every live
// session can still be deleted, by the page's DELETE and by the site's logout (endSessions).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createWidgetSessionProxy } from '../../src/proxy/index.js';
import { API_KEY } from './support/fake-vendor.js';
import {
  assertError,
  BASE_PATH,
  createSession,
  fakeVendorForFile,
  guardRequest,
  makeProxy,
  remember,
  send,
  SECRET,
  SITE,
} from './support/harness.js';

const vendor = fakeVendorForFile();
const NEXT = 'rotated-Kp8vT2qLx9Zr4mWc7Nb1Yd5sHf3Ja6Ge0';

function logoutRequest(cookies: readonly string[]): Request {
  return new Request(`${SITE}/logout`, { method: 'POST', headers: { cookie: cookies.join('; ') } });
}

const nameOf = (cookie: string) => cookie.split('=')[0];

void describe('secret rotation', () => {
  void it('keeps every live session deletable, by DELETE and by endSessions', async () => {
    const before = makeProxy(vendor).proxy;
    const live = [];
    for (let i = 0; i < 4; i++) live.push(await createSession(before, 'alice'));
    const [a, b, c, d] = live as [(typeof live)[0], (typeof live)[0], (typeof live)[0], (typeof live)[0]];

    const after = makeProxy(vendor, { secret: [NEXT, SECRET] }).proxy;
    const path = (sessionId: string) => `${BASE_PATH}/${sessionId}`;
    const status = await send(after, guardRequest('GET', path(a.sessionId), { user: 'alice', cookies: [a.cookie] }));
    assert.equal(status.status, 200, status.text);

    for (const session of [a, b]) {
      const deleted = await send(
        after,
        guardRequest('DELETE', path(session.sessionId), { user: 'alice', cookies: [session.cookie] }),
      );
      assert.equal(deleted.status, 200, deleted.text);
      assert.equal(vendor.sessions.has(session.sessionId), false);
      assert.deepEqual(
        deleted.cookies.map(nameOf),
        [nameOf(session.cookie)],
        'the retired binding replaces the old one',
      );
      // A retry whose first answer was lost, with the retired binding it set: still idempotent.
      const again = await send(
        after,
        guardRequest('DELETE', path(session.sessionId), { user: 'alice', cookies: deleted.cookies }),
      );
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.already_terminated, true);
    }

    vendor.requests.length = 0;
    const logout = await after.endSessions(logoutRequest([c.cookie, d.cookie]));
    remember(JSON.stringify(logout));
    assert.deepEqual([...logout.ended].sort(), [c.sessionId, d.sessionId].sort());
    assert.deepEqual(logout.failed, []);
    assert.deepEqual(
      vendor.requests.map((r) => r.method),
      ['DELETE', 'DELETE'],
    );
    assert.deepEqual(
      logout.setCookie.map((value) => value.split(';')[0]).sort(),
      [c, d].map((session) => `${nameOf(session.cookie)}=`).sort(),
      'the cookies the browser holds are the ones cleared',
    );
    assert.equal(vendor.sessions.size, 0, 'every session of before the rotation ended at the vendor');
  });

  void it('signs new bindings with the first secret, so they outlive the old one', async () => {
    const rotated = makeProxy(vendor, { secret: [NEXT, SECRET] }).proxy;
    const fresh = await createSession(rotated, 'alice');
    const old = await createSession(makeProxy(vendor).proxy, 'alice');
    const nextOnly = makeProxy(vendor, { secret: NEXT }).proxy;
    const read = (session: typeof fresh, user = 'alice') =>
      send(nextOnly, guardRequest('GET', `${BASE_PATH}/${session.sessionId}`, { user, cookies: [session.cookie] }));
    assert.equal((await read(fresh)).status, 200);
    assertError(await read(old), 403, 'INSUFFICIENT_PERMISSIONS');
    assertError(await read(fresh, 'bob'), 403, 'INSUFFICIENT_PERMISSIONS');
    assert.deepEqual((await nextOnly.endSessions(logoutRequest([old.cookie]))).ended, [], 'the old secret is gone');
  });

  void it('still refuses another user with a binding from before the rotation', async () => {
    const alice = await createSession(makeProxy(vendor).proxy, 'alice');
    const rotated = makeProxy(vendor, { secret: [NEXT, SECRET] }).proxy;
    assertError(
      await send(
        rotated,
        guardRequest('DELETE', `${BASE_PATH}/${alice.sessionId}`, { user: 'bob', cookies: [alice.cookie] }),
      ),
      403,
      'INSUFFICIENT_PERMISSIONS',
    );
    assert.equal(vendor.sessions.has(alice.sessionId), true);
  });

  void it('checks every secret of the list at start-up', () => {
    const base = {
      apiKey: API_KEY,
      agenticAvatarId: 'a',
      allowedOrigins: [SITE],
      authorize: () => null,
      widgetUrl: () => 'https://widget.test/',
    };
    const refuses = (secret: unknown, fix: RegExp) =>
      assert.throws(
        () => createWidgetSessionProxy({ ...base, secret: secret as string }),
        (error: unknown) => error instanceof TypeError && fix.test(error.message) && !error.message.includes(NEXT),
      );
    refuses([], /secret must be a string or a non-empty array of strings/);
    refuses([NEXT, 'short'], /secret\[1\] must be at least 32 characters \(got 5\)/);
    refuses([NEXT, API_KEY], /secret\[1\] is the API key/);
    refuses([NEXT, 'x'.repeat(40)], /secret\[1\] is one character repeated/);
    createWidgetSessionProxy({ ...base, secret: [NEXT, SECRET] });
  });
});
