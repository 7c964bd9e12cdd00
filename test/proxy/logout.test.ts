// endSessions(): the site's server-side logout ends the widget sessions even
// when the page's JavaScript never ran (closed tab, JavaScript off, expired site session).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reply } from './support/fake-vendor.js';
import {
  fakeVendorForFile,
  BASE_PATH,
  createSession,
  guardRequest,
  makeProxy,
  remember,
  send,
  SITE,
} from './support/harness.js';

const vendor = fakeVendorForFile();

/** The site's logout request: only the browser's cookies, no guard header, no signed-in user any more. */
function logoutRequest(cookies: readonly string[]): Request {
  return new Request(`${SITE}/logout`, {
    method: 'POST',
    headers: { cookie: ['site_other=1', ...cookies].join('; ') },
  });
}

void describe('endSessions(request)', () => {
  void it('ends every session bound to the request and returns Set-Cookie values that clear the bindings', async () => {
    const { proxy, logs } = makeProxy(vendor);
    const a = await createSession(proxy, 'alice');
    const b = await createSession(proxy, 'alice');
    vendor.requests.length = 0;

    const result = await proxy.endSessions(logoutRequest([a.cookie, b.cookie]));
    remember(JSON.stringify(result));

    assert.deepEqual([...result.ended].sort(), [a.sessionId, b.sessionId].sort());
    assert.deepEqual(result.failed, []);
    assert.deepEqual(
      vendor.requests.map((r) => r.method),
      ['DELETE', 'DELETE'],
    );
    assert.equal(vendor.sessions.size, 0);
    const cleared = result.setCookie.map((value) => value.split(';')[0]).sort();
    assert.deepEqual(cleared, [a.cookie, b.cookie].map((cookie) => `${cookie.split('=')[0]}=`).sort());
    for (const value of result.setCookie) assert.match(value, /Max-Age=0; Path=\/; HttpOnly; SameSite=Strict; Secure/);
    assert.equal(logs.filter((e) => e.event === 'session-ended').length, 2);
  });

  void it('needs no signed-in user, and treats a session the vendor already ended as ended', async () => {
    const { proxy } = makeProxy(vendor);
    const a = await createSession(proxy, 'alice');
    vendor.sessions.delete(a.sessionId);
    const result = await proxy.endSessions(logoutRequest([a.cookie]));
    assert.deepEqual(result.ended, [a.sessionId]);
    assert.equal(result.setCookie.length, 1);
  });

  void it('does not ask the vendor again for a session the page already deleted (retired binding), and clears it', async () => {
    const { proxy } = makeProxy(vendor);
    const a = await createSession(proxy, 'alice');
    const deleted = await send(
      proxy,
      guardRequest('DELETE', `${BASE_PATH}/${a.sessionId}`, { user: 'alice', cookies: [a.cookie] }),
    );
    const retired = deleted.cookies[0];
    vendor.requests.length = 0;
    const result = await proxy.endSessions(logoutRequest([retired]));
    assert.deepEqual(result.ended, [a.sessionId]);
    assert.deepEqual(vendor.requests, []);
    assert.match(result.setCookie[0], /Max-Age=0/);
  });

  void it('works on another instance with the same secret', async () => {
    const a = await createSession(makeProxy(vendor).proxy, 'alice');
    const result = await makeProxy(vendor).proxy.endSessions(logoutRequest([a.cookie]));
    assert.deepEqual(result.ended, [a.sessionId]);
  });

  void it('ignores forged bindings (no vendor call) and clears them; leaves other cookies alone', async () => {
    const { proxy } = makeProxy(vendor);
    vendor.addSession('victim-session');
    const a = await createSession(proxy, 'alice');
    const [name, value] = a.cookie.split('=') as [string, string];
    const forged = `${name}=${value.replace(a.sessionId, 'victim-session')}`;
    vendor.requests.length = 0;

    const result = await proxy.endSessions(logoutRequest([forged, 'kwg_made_up=victim-session.1.x.y']));
    assert.deepEqual(result, { ended: [], failed: [], setCookie: result.setCookie });
    assert.equal(vendor.requests.length, 0);
    assert.equal(vendor.sessions.has('victim-session'), true);
    assert.deepEqual(result.setCookie.map((c) => c.split('=')[0]).sort(), [name, 'kwg_made_up'].sort());
  });

  void it('keeps the binding of a session the vendor could not end, so a later logout can retry', async () => {
    const { proxy } = makeProxy(vendor);
    const a = await createSession(proxy, 'alice');
    const b = await createSession(proxy, 'alice');
    vendor.queue(reply.error(503, 'SERVICE_UNAVAILABLE'), reply.error(503, 'SERVICE_UNAVAILABLE'));
    // Both calls fail: neither binding is cleared.
    const failed = await proxy.endSessions(logoutRequest([a.cookie, b.cookie]));
    assert.deepEqual([...failed.failed].sort(), [a.sessionId, b.sessionId].sort());
    assert.deepEqual(failed.setCookie, []);

    const retried = await proxy.endSessions(logoutRequest([a.cookie, b.cookie]));
    assert.equal(retried.ended.length, 2);
    assert.equal(vendor.sessions.size, 0);
  });

  void it('does nothing without bindings', async () => {
    const { proxy } = makeProxy(vendor);
    assert.deepEqual(await proxy.endSessions(logoutRequest([])), { ended: [], failed: [], setCookie: [] });
    assert.equal(vendor.requests.length, 0);
  });
});

void describe("isSameOrigin(request), for the site's logout route", () => {
  const post = (headers: Record<string, string>) => new Request(`${SITE}/logout`, { method: 'POST', headers });

  void it("accepts a form or fetch from the site's own pages, and a request without either header", () => {
    const { proxy } = makeProxy(vendor);
    assert.equal(proxy.isSameOrigin(post({ origin: SITE, 'sec-fetch-site': 'same-origin' })), true);
    assert.equal(proxy.isSameOrigin(post({ origin: SITE })), true);
    assert.equal(proxy.isSameOrigin(post({})), true, 'no Origin and no Sec-Fetch-Site: not a browser cross-site post');
  });

  void it('refuses what the proxy\'s own routes refuse: another origin, a look-alike, "null", another site', () => {
    const { proxy } = makeProxy(vendor);
    for (const origin of ['https://evil.test', 'https://site.test.evil.test', 'http://site.test', 'null', ''])
      assert.equal(proxy.isSameOrigin(post({ origin })), false, origin);
    for (const site of ['cross-site', 'same-site', 'none'])
      assert.equal(proxy.isSameOrigin(post({ origin: SITE, 'sec-fetch-site': site })), false, site);
    assert.equal(proxy.isSameOrigin(post({ 'sec-fetch-site': 'cross-site' })), false);
  });
});
