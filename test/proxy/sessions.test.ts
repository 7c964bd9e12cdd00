// The proxy HTTP contract, end to end against a fake vendor on loopback.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_KEY } from './support/fake-vendor.js';
import {
  assertError,
  fakeVendorForFile,
  BASE_PATH,
  createSession,
  guardRequest,
  makeProxy,
  send,
  SECRET,
  SITE,
} from './support/harness.js';

const vendor = fakeVendorForFile('/konpro');

void describe('POST {basePath}', () => {
  void it('creates a vendor session with the configured avatar and settings and answers 201', async () => {
    const { proxy } = makeProxy(vendor, { sessionSettings: { max_duration: 900, language: 'de' } });
    const answer = await send(proxy, guardRequest('POST', BASE_PATH, { user: 'alice' }));

    assert.equal(answer.status, 201);
    assert.deepEqual(Object.keys(answer.body).sort(), ['expires_at', 'session_id', 'widget_url']);
    assert.equal(answer.body.widget_url, `https://widget.test/embed?session=${answer.body.session_id}`);
    assert.equal(answer.headers.get('cache-control'), 'no-store');

    assert.equal(vendor.requests.length, 1);
    const [call] = vendor.requests;
    assert.equal(call.method, 'POST');
    assert.equal(call.url, '/konpro/v1/widget/sessions');
    assert.equal(call.apiKey, API_KEY);
    assert.deepEqual(JSON.parse(call.body), {
      agentic_avatar_id: 'avatar-1',
      settings: { max_duration: 900, language: 'de' },
    });
  });

  void it('defaults the settings to {max_duration: 3600}', async () => {
    const { proxy } = makeProxy(vendor);
    await createSession(proxy, 'alice');
    assert.deepEqual(JSON.parse(vendor.requests[0].body).settings, { max_duration: 3600 });
  });

  void it('ignores what the browser sends in the body', async () => {
    const { proxy } = makeProxy(vendor);
    const request = guardRequest('POST', BASE_PATH, { user: 'alice', headers: { 'content-type': 'application/json' } });
    const withBody = new Request(request, {
      body: JSON.stringify({ agentic_avatar_id: 'other', settings: { max_duration: 999999 } }),
    });
    assert.equal((await send(proxy, withBody)).status, 201);
    assert.deepEqual(JSON.parse(vendor.requests[0].body), {
      agentic_avatar_id: 'avatar-1',
      settings: { max_duration: 3600 },
    });
  });

  void it('binds the session to the user in an HttpOnly, SameSite, signed cookie that outlives the session by a day', async () => {
    const { proxy } = makeProxy(vendor);
    const { answer, sessionId } = await createSession(proxy, 'alice');
    assert.equal(answer.setCookie.length, 1);
    const attributes = answer.setCookie[0].split('; ');
    const [name, value] = attributes[0].split('=') as [string, string];
    assert.match(name, /^__Host-kwg_[A-Za-z0-9_-]{16}$/, 'the __Host- prefix by default on https (issue 13, item 4)');
    assert.ok(!name.includes(sessionId), 'the cookie name gives away the session id');
    assert.equal(value.split('.')[0], sessionId);
    assert.ok(!value.includes('alice'), 'the user id itself is not in the cookie');
    assert.ok(attributes.includes('HttpOnly'), 'the session cookie is not HttpOnly: page scripts can read it');
    assert.ok(
      attributes.includes('SameSite=Strict'),
      'the session cookie is not SameSite=Strict: cross-site requests carry it',
    );
    assert.ok(attributes.includes('Path=/'), 'the session cookie is not Path=/');
    assert.ok(attributes.includes('Secure'), 'https request, secure: "auto"');
    const maxAge = Number(attributes.find((a) => a.startsWith('Max-Age='))!.slice(8));
    assert.ok(Math.abs(maxAge - (3600 + 86_400)) <= 2, `Max-Age ${maxAge}`);
  });

  void it('leaves Secure off for plain http on loopback with secure: "auto", and honours cookie options', async () => {
    const { proxy } = makeProxy(vendor);
    // Plain http to another host is now Secure (a TLS-terminating proxy in front; issue 13, item 4):
    // the fallback is for a page on plain http on this machine, as the demo's.
    const plain = await send(
      proxy,
      new Request(`http://127.0.0.1:8000${BASE_PATH}`, {
        method: 'POST',
        headers: { 'x-konpro-guard': '1', cookie: 'site_user=alice' },
      }),
    );
    assert.equal(plain.status, 201);
    assert.ok(
      !plain.setCookie[0].includes('Secure'),
      'plain http on loopback got a Secure cookie, which the browser there drops',
    );

    const custom = makeProxy(vendor, { cookie: { namePrefix: '__Host-w_', secure: true, sameSite: 'Lax' } }).proxy;
    const answer = await send(
      custom,
      new Request(`http://site.test${BASE_PATH}`, {
        method: 'POST',
        headers: { 'x-konpro-guard': '1', cookie: 'site_user=alice' },
      }),
    );
    assert.match(answer.setCookie[0], /^__Host-w_[A-Za-z0-9_-]{16}=.*; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
  });

  void it('gives concurrent creates (several tabs) a binding each', async () => {
    const { proxy } = makeProxy(vendor);
    const [a, b] = await Promise.all([createSession(proxy, 'alice'), createSession(proxy, 'alice')]);
    assert.notEqual(a.sessionId, b.sessionId);
    assert.notEqual(a.cookie.split('=')[0], b.cookie.split('=')[0]);
    const both = [a.cookie, b.cookie];
    for (const { sessionId } of [a, b]) {
      assert.equal(
        (await send(proxy, guardRequest('GET', `${BASE_PATH}/${sessionId}`, { user: 'alice', cookies: both }))).status,
        200,
      );
    }
  });
});

void describe('GET {basePath}/{id}', () => {
  void it('answers 200 {session_id, status, expires_at}', async () => {
    const { proxy } = makeProxy(vendor);
    const { sessionId, cookie, answer: created } = await createSession(proxy, 'alice');
    const answer = await send(
      proxy,
      guardRequest('GET', `${BASE_PATH}/${sessionId}`, { user: 'alice', cookies: [cookie] }),
    );
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { session_id: sessionId, status: 'active', expires_at: created.body.expires_at });
    assert.equal(vendor.requests[1].url, `/konpro/v1/widget/sessions/${sessionId}`);
    assert.equal(vendor.requests[1].apiKey, API_KEY);
  });

  void it('answers 404 in the vendor schema, with the vendor request id, when the session is gone', async () => {
    const { proxy } = makeProxy(vendor);
    const { sessionId, cookie } = await createSession(proxy, 'alice');
    vendor.sessions.delete(sessionId);
    const answer = await send(
      proxy,
      guardRequest('GET', `${BASE_PATH}/${sessionId}`, { user: 'alice', cookies: [cookie] }),
    );
    assertError(answer, 404, 'RESOURCE_NOT_FOUND');
    assert.equal(answer.body.request_id, 'vendor-req-404');
  });
});

void describe('DELETE {basePath}/{id}', () => {
  void it('ends the session, answers 200 {message, session_id} and retires the binding to ten minutes', async () => {
    const { proxy } = makeProxy(vendor);
    const { sessionId, cookie } = await createSession(proxy, 'alice');
    const answer = await send(
      proxy,
      guardRequest('DELETE', `${BASE_PATH}/${sessionId}`, { user: 'alice', cookies: [cookie] }),
    );
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { message: 'Session terminated successfully', session_id: sessionId });
    assert.equal(vendor.sessions.has(sessionId), false);
    assert.equal(answer.setCookie.length, 1);
    assert.equal(answer.cookies[0].split('=')[0], cookie.split('=')[0]);
    assert.match(answer.setCookie[0], /Max-Age=600;/);
  });

  void it('is idempotent: a session the vendor already ended answers 200 with already_terminated', async () => {
    const { proxy } = makeProxy(vendor);
    const { sessionId, cookie } = await createSession(proxy, 'alice');
    vendor.sessions.delete(sessionId);
    const answer = await send(
      proxy,
      guardRequest('DELETE', `${BASE_PATH}/${sessionId}`, { user: 'alice', cookies: [cookie] }),
    );
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, {
      message: 'Session already terminated',
      session_id: sessionId,
      already_terminated: true,
    });
    assert.match(answer.setCookie[0], /Max-Age=600;/);
  });

  void it('a retried delete (the first answer was lost) still succeeds', async () => {
    const { proxy } = makeProxy(vendor);
    const { sessionId, cookie } = await createSession(proxy, 'alice');
    const request = () => guardRequest('DELETE', `${BASE_PATH}/${sessionId}`, { user: 'alice', cookies: [cookie] });
    assert.equal((await send(proxy, request())).status, 200);
    const again = await send(proxy, request());
    assert.equal(again.status, 200);
    assert.equal(again.body.already_terminated, true);
  });

  void it('a retry with the retired binding the first answer set (a timed-out success) is still idempotent', async () => {
    const { proxy } = makeProxy(vendor);
    const { sessionId, cookie } = await createSession(proxy, 'alice');
    const first = await send(
      proxy,
      guardRequest('DELETE', `${BASE_PATH}/${sessionId}`, { user: 'alice', cookies: [cookie] }),
    );
    const retired = first.cookies[0];
    const again = await send(
      proxy,
      guardRequest('DELETE', `${BASE_PATH}/${sessionId}`, { user: 'alice', cookies: [retired] }),
    );
    assert.equal(again.status, 200);
    assert.equal(again.body.already_terminated, true);
    // Bob cannot use Alice's retired binding either.
    const bob = await send(
      proxy,
      guardRequest('DELETE', `${BASE_PATH}/${sessionId}`, { user: 'bob', cookies: [retired] }),
    );
    assert.equal(bob.status, 403);
  });
});

void describe('several instances', () => {
  void it('agree without a shared store: a binding made by one instance works on another with the same secret', async () => {
    const a = makeProxy(vendor).proxy;
    const b = makeProxy(vendor).proxy;
    const { sessionId, cookie } = await createSession(a, 'alice');
    assert.equal(
      (await send(b, guardRequest('GET', `${BASE_PATH}/${sessionId}`, { user: 'alice', cookies: [cookie] }))).status,
      200,
    );
    assert.equal(
      (await send(b, guardRequest('DELETE', `${BASE_PATH}/${sessionId}`, { user: 'alice', cookies: [cookie] }))).status,
      200,
    );
  });

  void it('an instance with another secret does not accept the binding', async () => {
    const a = makeProxy(vendor).proxy;
    const other = makeProxy(vendor, { secret: `${SECRET}-rotated` }).proxy;
    const { sessionId, cookie } = await createSession(a, 'alice');
    const answer = await send(
      other,
      guardRequest('GET', `${BASE_PATH}/${sessionId}`, { user: 'alice', cookies: [cookie] }),
    );
    assertError(answer, 403, 'INSUFFICIENT_PERMISSIONS');
  });
});

void describe('handles()', () => {
  void it('claims basePath and what is below it, nothing else', () => {
    const { proxy } = makeProxy(vendor, { basePath: '/widget/' });
    assert.equal(proxy.basePath, '/widget');
    for (const yes of ['/widget', '/widget/', '/widget/abc', `${SITE}/widget/x?y=1`, new URL(`${SITE}/widget/a`)])
      assert.equal(proxy.handles(yes), true, String(yes));
    for (const no of ['/', '/widgets', '/widget-old/x', '/api/widget', `${SITE}/other`])
      assert.equal(proxy.handles(no), false, no);
    assert.equal(proxy.handles(new Request(`${SITE}/widget/abc`)), true);
    assert.equal(proxy.handles(new Request(`${SITE}/other`)), false);
  });

  void it('answers an unknown route with 404 and other methods with 405 and Allow', async () => {
    const { proxy } = makeProxy(vendor);
    assertError(await send(proxy, guardRequest('GET', '/elsewhere', { user: 'alice' })), 404, 'RESOURCE_NOT_FOUND');
    const put = await send(proxy, guardRequest('PUT', `${BASE_PATH}/abc`, { user: 'alice' }));
    assertError(put, 405, 'METHOD_NOT_ALLOWED');
    assert.equal(put.headers.get('allow'), 'GET, DELETE');
    const get = await send(proxy, guardRequest('GET', BASE_PATH, { user: 'alice' }));
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal(vendor.requests.length, 0);
  });
});
