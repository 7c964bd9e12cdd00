// What a user (or a script holding a user's cookies) can cost the site at the vendor. Status checks of a
// session share their vendor call and its answer for a moment, then are rate-limited per user, and a
// limited check is never answered "terminated". Live sessions are capped per user: at the cap a create
// ends the user's oldest session at the vendor (its pages hear `revoked`) instead of refusing, so a kiosk
// reloading its auto-start page never locks itself out. An optional cap for the whole site answers a
// 429 in the vendor's error schema before the vendor is asked.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import { classifyResponse, Verdict } from '../../src/detection/classify-response.js';
import type { WidgetSessionProxy } from '../../src/proxy/index.js';
import { openStream, serve, until, type Served } from './support/event-stream.js';
import { reply } from './support/fake-vendor.js';
import { flakyStore } from './support/flaky-store.js';
import {
  assertError,
  BASE_PATH,
  createSession,
  fakeVendorForFile,
  guardRequest,
  makeProxy,
  send,
  type TestProxy,
} from './support/harness.js';

const vendor = fakeVendorForFile();
const open: Array<WidgetSessionProxy | Served> = [];
afterEach(async () => {
  for (const item of open.splice(0)) await item.close();
});

function proxyFor(...args: Parameters<typeof makeProxy>): TestProxy {
  const made = makeProxy(...args);
  open.push(made.proxy);
  return made;
}

type Created = { sessionId: string; cookie: string };
const status = (proxy: WidgetSessionProxy, user: string, session: Created) =>
  send(proxy, guardRequest('GET', `${BASE_PATH}/${session.sessionId}`, { user, cookies: [session.cookie] }));
const vendorCalls = (method: string, sessionId?: string) =>
  vendor.requests.filter((r) => r.method === method && (sessionId === undefined || r.url.endsWith(`/${sessionId}`)))
    .length;
const liveIds = async (proxy: WidgetSessionProxy, userId: string) =>
  (await proxy.listSessions({ userId })).map((session) => session.sessionId);

void describe('status checks', () => {
  void it('300 checks of one session at once are one vendor call, and checks right after reuse its answer', async () => {
    const { proxy } = proxyFor(vendor);
    const a = await createSession(proxy, 'alice');
    const answers = await Promise.all(Array.from({ length: 300 }, () => status(proxy, 'alice', a)));
    assert.ok(
      answers.every((answer) => answer.status === 200 && answer.body.status === 'active'),
      'every one answered',
    );
    assert.equal(vendorCalls('GET', a.sessionId), 1);
    const again = await status(proxy, 'alice', a);
    assert.equal(again.body.status, 'active');
    assert.equal(vendorCalls('GET', a.sessionId), 1, 'within statusCacheMs');
  });

  void it('asks the vendor again once statusCacheMs is over, and never keeps a failure', async () => {
    const { proxy } = proxyFor(vendor, { statusCacheMs: 100 });
    const a = await createSession(proxy, 'alice');
    vendor.queue(reply.error(503, 'SERVICE_UNAVAILABLE'));
    assert.equal((await status(proxy, 'alice', a)).status, 503);
    assert.equal((await status(proxy, 'alice', a)).body.status, 'active', 'the failure was not kept');
    // Time to let pass (the cached answer is 100 ms old at least), not a wait for nothing to happen:
    // the vendor call it then makes is what is checked.
    await sleep(150);
    assert.equal((await status(proxy, 'alice', a)).body.status, 'active');
    assert.equal(vendorCalls('GET', a.sessionId), 3);
  });

  void it('a session ended through the proxy is never answered from the cache', async () => {
    const { proxy } = proxyFor(vendor, { statusCacheMs: 60_000 });
    const a = await createSession(proxy, 'alice');
    const b = await createSession(proxy, 'alice');
    assert.equal((await status(proxy, 'alice', a)).body.status, 'active');
    assert.equal((await status(proxy, 'alice', b)).body.status, 'active');

    const deleted = await send(
      proxy,
      guardRequest('DELETE', `${BASE_PATH}/${a.sessionId}`, { user: 'alice', cookies: [a.cookie] }),
    );
    assert.equal(deleted.status, 200);
    assert.equal((await status(proxy, 'alice', a)).status, 404, 'after the page’s own delete');
    await proxy.revokeSession(b.sessionId);
    assert.equal((await status(proxy, 'alice', b)).status, 404, 'after a server-side revocation');
  });

  void it('past rateLimit.reads a check is a 429 the guard retries, never "terminated", and the page still shows the session', async () => {
    const { proxy } = proxyFor(vendor, { rateLimit: { reads: 3 }, statusCacheMs: 0 });
    const a = await createSession(proxy, 'alice');
    const b = await createSession(proxy, 'alice');
    for (const session of [a, b, a]) assert.equal((await status(proxy, 'alice', session)).body.status, 'active');
    const [before] = await proxy.listSessions({ userId: 'alice' });
    await sleep(20);

    const limited = await status(proxy, 'alice', b);
    assertError(limited, 429, 'RATE_LIMIT_EXCEEDED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(classifyResponse(limited.status, limited.body).verdict, Verdict.Transient);
    assert.equal(vendorCalls('GET'), 3, 'the limited check did not reach the vendor');
    const seen = (await proxy.listSessions({ userId: 'alice' })).find((s) => s.sessionId === b.sessionId)!;
    assert.ok(seen.lastSeenAt > before.lastSeenAt, 'a limited check still counts as the page showing it');
    assert.deepEqual(await liveIds(proxy, 'alice'), [a.sessionId, b.sessionId], 'nothing ended for it');

    const bob = await createSession(proxy, 'bob');
    assert.equal((await status(proxy, 'bob', bob)).body.status, 'active', 'per user');
  });
});

void describe('live sessions per user', () => {
  void it('at maxSessionsPerUser a create ends the user’s oldest session at the vendor; its pages hear revoked', async () => {
    const { proxy, logs } = proxyFor(vendor, { maxSessionsPerUser: 3 });
    const served = await serve(proxy);
    open.push(served);
    const sessions = [];
    for (let i = 0; i < 3; i++) sessions.push(await createSession(proxy, 'alice'));
    const bob = await createSession(proxy, 'bob');
    const stream = await openStream(served.url, { user: 'alice', sessions: [sessions[0].sessionId] });
    assert.equal(stream.status, 200, stream.text);
    await stream.waitForComments(1);

    const fourth = await createSession(proxy, 'alice');
    assert.equal(vendor.sessions.has(sessions[0].sessionId), false, 'the oldest is deleted at the vendor');
    assert.deepEqual(await liveIds(proxy, 'alice'), [sessions[1].sessionId, sessions[2].sessionId, fourth.sessionId]);
    const [event] = await stream.waitForEvents(1);
    assert.deepEqual(JSON.parse(event.data!), { session_id: sessions[0].sessionId, reason: 'revoked' });
    assert.deepEqual(await liveIds(proxy, 'bob'), [bob.sessionId], 'other users keep theirs');
    assert.ok(
      logs.some((entry) => entry.event === 'session-evicted' && entry.reason === 'revoked'),
      'the eviction is logged as a revocation',
    );
    stream.close();
  });

  void it('a kiosk reloading its auto-start page all day is never locked out, and holds at most the cap', async () => {
    const { proxy } = proxyFor(vendor, { rateLimit: { creates: 1_000 } });
    for (let i = 0; i < 40; i++) {
      await createSession(proxy, 'kiosk');
      assert.ok(vendor.sessions.size <= 10, `${vendor.sessions.size} live at the vendor after create ${i}`);
    }
    assert.equal((await proxy.listSessions({ userId: 'kiosk' })).length, 10, 'the default cap is 10');
    assert.equal(vendorCalls('DELETE'), 30);
  });

  void it('creates of one user at the same moment still leave at most the cap: the oldest go', async () => {
    const { proxy } = proxyFor(vendor, { maxSessionsPerUser: 3 });
    const first = await createSession(proxy, 'alice');
    const second = await createSession(proxy, 'alice');
    // Each of these counts two live sessions before any of them is registered.
    const newer = await Promise.all([1, 2, 3].map(() => createSession(proxy, 'alice')));
    assert.deepEqual(
      new Set(await liveIds(proxy, 'alice')),
      new Set(newer.map((session) => session.sessionId)),
      'the three newest are the ones left',
    );
    assert.equal(vendor.sessions.has(first.sessionId), false, 'the oldest is deleted at the vendor');
    assert.equal(vendor.sessions.has(second.sessionId), false, 'and the next oldest');
    assert.equal(vendorCalls('DELETE'), 2, 'no more than the excess');
  });

  void it('a vendor that cannot end the oldest now does not block the create: its delete is queued and retried', async () => {
    const { proxy } = proxyFor(vendor, { maxSessionsPerUser: 2 });
    const first = await createSession(proxy, 'alice');
    const second = await createSession(proxy, 'alice');
    vendor.queue(reply.error(503, 'SERVICE_UNAVAILABLE', 'down', { 'retry-after': '1' }));
    const third = await createSession(proxy, 'alice');
    assert.deepEqual(await liveIds(proxy, 'alice'), [second.sessionId, third.sessionId]);
    await until(() => !vendor.sessions.has(first.sessionId), 8_000, 'the retried delete');
  });

  void it('with the store down the cap cannot be counted: creates go on', async () => {
    const store = flakyStore();
    const { proxy } = proxyFor(vendor, { store, maxSessionsPerUser: 1 });
    await createSession(proxy, 'alice');
    store.down = true;
    for (let i = 0; i < 3; i++) await createSession(proxy, 'alice');
    assert.equal(vendor.sessions.size, 4);
  });
});

void describe('live sessions of the whole site', () => {
  void it('at maxLiveSessions a create is a 429 CAPACITY_REACHED with Retry-After, before the vendor is asked', async () => {
    const { proxy } = proxyFor(vendor, { maxLiveSessions: 2 });
    await createSession(proxy, 'alice');
    await createSession(proxy, 'bob');
    const refused = await send(proxy, guardRequest('POST', BASE_PATH, { user: 'carol' }));
    assertError(refused, 429, 'CAPACITY_REACHED');
    assert.equal(refused.headers.get('retry-after'), '30');
    assert.equal(classifyResponse(refused.status, refused.body).verdict, Verdict.Transient, 'the guard retries');
    assert.equal(vendorCalls('POST'), 2);
    assert.deepEqual(refused.cookies, [], 'no binding');

    await proxy.revokeUser('bob');
    await createSession(proxy, 'carol');
  });

  void it('a user at maxSessionsPerUser still replaces their oldest at the site’s cap', async () => {
    const { proxy } = proxyFor(vendor, { maxLiveSessions: 2, maxSessionsPerUser: 1 });
    const first = await createSession(proxy, 'alice');
    await createSession(proxy, 'bob');
    const replaced = await createSession(proxy, 'alice');
    assert.deepEqual(await liveIds(proxy, 'alice'), [replaced.sessionId]);
    assert.equal(vendor.sessions.has(first.sessionId), false);
    assertError(await send(proxy, guardRequest('POST', BASE_PATH, { user: 'carol' })), 429, 'CAPACITY_REACHED');
  });

  void it('refuses caps that are not positive whole numbers, naming the option', () => {
    assert.throws(() => makeProxy(vendor, { maxSessionsPerUser: 0 }), /maxSessionsPerUser must be a positive/);
    assert.throws(() => makeProxy(vendor, { maxLiveSessions: 2.5 }), /maxLiveSessions must be a positive/);
    assert.throws(() => makeProxy(vendor, { statusCacheMs: -1 }), /statusCacheMs must be 0 or a positive/);
    assert.throws(() => makeProxy(vendor, { rateLimit: { reads: 0 } }), /rateLimit.reads must be a positive/);
  });
});
