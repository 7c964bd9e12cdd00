// The registry of live sessions, from the site's server: what listSessions shows after a user's pages
// create, check and delete sessions; revokeUser/revokeSession at the vendor; server-side deletes that
// fail now and are retried until the vendor confirms them; the orphan sweep; a store that is down.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import { memoryStore, type WidgetSessionProxy, type WidgetSessionStore } from '../../src/proxy/index.js';
import { reply, type Reply } from './support/fake-vendor.js';
import { openStream, serve, until, type Served } from './support/event-stream.js';
import { flakyStore, STORE_ERROR } from './support/flaky-store.js';
import {
  BASE_PATH,
  createSession,
  fakeVendorForFile,
  guardRequest,
  makeProxy,
  remember,
  send,
  SITE,
  type TestProxy,
} from './support/harness.js';

const vendor = fakeVendorForFile();
const open: Array<WidgetSessionProxy | Served | WidgetSessionStore> = [];
afterEach(async () => {
  for (const item of open.splice(0)) await item.close();
});

function proxyFor(...args: Parameters<typeof makeProxy>): TestProxy {
  const made = makeProxy(...args);
  open.push(made.proxy);
  return made;
}

const status = (proxy: WidgetSessionProxy, user: string, id: string, cookie: string) =>
  send(proxy, guardRequest('GET', `${BASE_PATH}/${id}`, { user, cookies: [cookie] }));
const vendorDeletes = (id: string) =>
  vendor.requests.filter((r) => r.method === 'DELETE' && r.url.endsWith(`/${id}`)).length;

void describe('the registry', () => {
  void it('lists what pages created, checked and deleted: user, created and expiry from the vendor, last seen', async () => {
    const { proxy } = proxyFor(vendor);
    const before = Date.now();
    const a = await createSession(proxy, 'alice');
    const b = await createSession(proxy, 'alice');
    const c = await createSession(proxy, 'bob');

    const alice = await proxy.listSessions({ userId: 'alice' });
    assert.deepEqual(
      alice.map((s) => s.sessionId),
      [a.sessionId, b.sessionId],
    );
    const vendorSession = vendor.sessions.get(a.sessionId)!;
    assert.equal(alice[0].userId, 'alice');
    assert.equal(alice[0].createdAt, Date.parse(vendorSession.created_at));
    assert.equal(alice[0].expiresAt, Date.parse(vendorSession.expires_at));
    assert.ok(alice[0].lastSeenAt >= before, 'last seen no earlier than the create');
    assert.equal((await proxy.listSessions()).length, 3);

    await sleep(20);
    assert.equal((await status(proxy, 'alice', a.sessionId, a.cookie)).status, 200);
    const [seen] = await proxy.listSessions({ userId: 'alice' });
    assert.ok(seen.lastSeenAt > alice[0].lastSeenAt, 'a status check is a page showing the session');

    assert.equal(
      (await send(proxy, guardRequest('DELETE', `${BASE_PATH}/${b.sessionId}`, { user: 'alice', cookies: [b.cookie] })))
        .status,
      200,
    );
    assert.deepEqual(
      (await proxy.listSessions()).map((s) => s.sessionId),
      [a.sessionId, c.sessionId],
    );
  });

  void it('a status check that finds the session ended takes it out of the registry', async () => {
    const { proxy } = proxyFor(vendor);
    const a = await createSession(proxy, 'alice');
    const b = await createSession(proxy, 'alice');
    vendor.sessions.get(a.sessionId)!.status = 'terminated';
    vendor.sessions.delete(b.sessionId);
    assert.equal((await status(proxy, 'alice', a.sessionId, a.cookie)).body.status, 'terminated');
    assert.equal((await status(proxy, 'alice', b.sessionId, b.cookie)).status, 404);
    assert.deepEqual(await proxy.listSessions({ userId: 'alice' }), []);
  });

  void it('endSessions (the site’s logout route) takes the sessions it ended out of the registry', async () => {
    const { proxy } = proxyFor(vendor);
    const a = await createSession(proxy, 'alice');
    const result = await proxy.endSessions(new Request(`${SITE}/logout`, { headers: { cookie: a.cookie } }));
    assert.deepEqual(result.ended, [a.sessionId]);
    assert.deepEqual(await proxy.listSessions(), []);
  });

  void it('refuses bad arguments with a TypeError that says what is wrong', async () => {
    const { proxy } = proxyFor(vendor);
    await assert.rejects(proxy.revokeSession('../etc'), {
      name: 'TypeError',
      message: /revokeSession\(sessionId\): session id may only contain/,
    });
    await assert.rejects(proxy.revokeSession(''), /session id is empty/);
    await assert.rejects(proxy.revokeUser(''), { name: 'TypeError', message: /revokeUser\(userId\) needs/ });
    await assert.rejects(proxy.revokeUser(42 as unknown as string), /got number/);
    await assert.rejects(proxy.revokeUser('alice', { reason: 'because' as 'revoked' }), /reason must be one of/);
    await assert.rejects(proxy.listSessions({ userId: 7 as unknown as string }), /listSessions/);
    assert.throws(() => makeProxy(vendor, { orphanAfterMs: -1 }), /orphanAfterMs must be 0/);
    assert.throws(() => makeProxy(vendor, { store: { register() {} } as never }), /store is missing touch, list/);
  });
});

void describe('revokeUser and revokeSession', () => {
  void it('revokeUser ends every session of the user at the vendor, and nobody else’s', async () => {
    const { proxy } = proxyFor(vendor);
    const phone = await createSession(proxy, 'alice');
    const laptop = await createSession(proxy, 'alice');
    const bob = await createSession(proxy, 'bob');

    const result = await proxy.revokeUser('alice');
    remember(JSON.stringify(result));
    assert.deepEqual([...result.ended].sort(), [phone.sessionId, laptop.sessionId].sort());
    assert.deepEqual(result.failed, []);
    assert.equal(vendorDeletes(phone.sessionId), 1);
    assert.equal(vendorDeletes(laptop.sessionId), 1);
    assert.equal(vendorDeletes(bob.sessionId), 0);
    assert.ok(vendor.sessions.has(bob.sessionId), "bob's session still runs at the vendor");
    assert.deepEqual(
      (await proxy.listSessions()).map((s) => s.sessionId),
      [bob.sessionId],
    );
    // The revoked device's page finds out on its next status check too.
    assert.equal((await status(proxy, 'alice', phone.sessionId, phone.cookie)).status, 404);
  });

  void it('revokeSession ends one session, whoever owns it', async () => {
    const { proxy } = proxyFor(vendor);
    const a = await createSession(proxy, 'alice');
    const b = await createSession(proxy, 'alice');
    assert.deepEqual(await proxy.revokeSession(a.sessionId), { ended: [a.sessionId], failed: [] });
    assert.ok(!vendor.sessions.has(a.sessionId), 'the revoked session is gone at the vendor');
    assert.ok(vendor.sessions.has(b.sessionId), 'the other session still runs at the vendor');
  });

  void it('an unknown user or session is {ended: [], failed: []}, never a throw', async () => {
    const { proxy } = proxyFor(vendor);
    await createSession(proxy, 'alice');
    assert.deepEqual(await proxy.revokeUser('nobody'), { ended: [], failed: [] });
    assert.deepEqual(await proxy.revokeSession('sess_unknown'), { ended: [], failed: [] });
    assert.equal(vendor.sessions.size, 1);
  });

  void it('a session the registry lost but the vendor still runs is deleted all the same', async () => {
    const { proxy } = proxyFor(vendor);
    vendor.addSession('sess_lost');
    assert.deepEqual(await proxy.revokeSession('sess_lost'), { ended: ['sess_lost'], failed: [] });
    assert.ok(!vendor.sessions.has('sess_lost'), 'deleted at the vendor');
  });
});

void describe('server-side deletes are never lost', () => {
  void it('vendor 503 during revokeUser: queued, retried after Retry-After until the vendor confirms', async () => {
    const { proxy, logs } = proxyFor(vendor);
    const a = await createSession(proxy, 'alice');
    const times: number[] = [];
    const timed =
      (next: Reply): Reply =>
      (res, request) => {
        times.push(Date.now());
        next(res, request);
      };
    vendor.queue(
      timed(reply.error(503, 'SERVICE_UNAVAILABLE', 'down', { 'retry-after': '1' })),
      timed(reply.error(500, 'PROCESSING_ERROR', 'still down', { 'retry-after': '1' })),
      timed(reply.json(200, { message: 'Session terminated successfully', session_id: a.sessionId })),
    );

    const result = await proxy.revokeUser('alice');
    assert.deepEqual(result, { ended: [], failed: [a.sessionId] });
    assert.deepEqual(await proxy.listSessions(), [], 'revoked: no longer a live session of the registry');
    assert.ok(
      logs.some((e) => e.event === 'delete-queued' && e.status === 503),
      'the 503 is logged as a queued delete',
    );
    assert.deepEqual((await proxy.sweep()).retried, [], 'not due before its Retry-After');

    const sweeps = [];
    while (times.length < 3) {
      sweeps.push(await proxy.sweep());
      await sleep(100);
    }
    assert.equal(times.length, 3, 'first attempt and two retries');
    assert.ok(times[1] - times[0] >= 990, `Retry-After honoured: ${times[1] - times[0]} ms`);
    assert.ok(times[2] - times[1] >= 990, `Retry-After honoured: ${times[2] - times[1]} ms`);
    await until(() => logs.some((e) => e.event === 'delete-confirmed' && e.attempts === 3));
    assert.deepEqual((await proxy.sweep()).retried, [], 'confirmed: off the queue');
    assert.equal(vendorDeletes(a.sessionId), 3);
  });

  void it('the proxy retries on its own when the backoff is up, without a sweep() call', async () => {
    const { proxy } = proxyFor(vendor);
    const a = await createSession(proxy, 'alice');
    vendor.queue(reply.error(429, 'RATE_LIMIT_EXCEEDED', 'slow down', { 'retry-after': '1' }), reply.drop());
    assert.deepEqual(await proxy.revokeSession(a.sessionId), { ended: [], failed: [a.sessionId] });
    // 429, then a dropped connection, then the documented answer: every retry is the proxy's own.
    await until(() => !vendor.sessions.has(a.sessionId), 8_000, 'the vendor delete');
    assert.equal(vendorDeletes(a.sessionId), 3);
  });

  void it('a vendor time-out during endSessions is queued and retried too', async () => {
    const { proxy } = proxyFor(vendor, { timeoutMs: 200 });
    const a = await createSession(proxy, 'alice');
    vendor.queue(reply.hang());
    const result = await proxy.endSessions(new Request(`${SITE}/logout`, { headers: { cookie: a.cookie } }));
    assert.deepEqual(result.failed, [a.sessionId]);
    await until(() => !vendor.sessions.has(a.sessionId), 8_000, 'the retried delete');
  });

  void it('a server-side delete is in the store’s queue while its vendor call is in flight, and off it once confirmed', async () => {
    const store = memoryStore();
    const { proxy } = proxyFor(vendor, { store });
    const a = await createSession(proxy, 'alice');
    const b = await createSession(proxy, 'alice');
    const queued = async () =>
      (await store.dueDeletes(Date.now() + 3_600_000, 100)).map((entry) => `${entry.sessionId} ${entry.reason}`);
    const slow =
      (sessionId: string): Reply =>
      (res, request) =>
        setTimeout(() => reply.json(200, { message: 'ok', session_id: sessionId })(res, request), 300);
    vendor.queue(slow(a.sessionId));
    const revoking = proxy.revokeSession(a.sessionId);
    await until(() => vendorDeletes(a.sessionId) === 1, 2_000, 'the vendor call');
    // Had the instance died now, another would find it there once the lease lapses.
    assert.deepEqual(await queued(), [`${a.sessionId} revoked`]);
    assert.deepEqual(await revoking, { ended: [a.sessionId], failed: [] });
    assert.deepEqual(await queued(), []);

    // The same for the site's logout route.
    vendor.queue(slow(b.sessionId));
    const loggingOut = proxy.endSessions(new Request(`${SITE}/logout`, { headers: { cookie: b.cookie } }));
    await until(() => vendorDeletes(b.sessionId) === 1, 2_000, 'the vendor call');
    assert.deepEqual(await queued(), [`${b.sessionId} logout`]);
    assert.deepEqual((await loggingOut).ended, [b.sessionId]);
    assert.deepEqual(await queued(), []);
    await store.close();
  });

  void it('with a shared store, one instance sends a given queued delete at a time', async () => {
    const store = memoryStore();
    const one = proxyFor(vendor, { store });
    const two = proxyFor(vendor, { store });
    const a = await createSession(one.proxy, 'alice');
    const now = Date.now();
    const { sessionId } = a;
    await store.enqueueDelete({
      sessionId,
      userId: 'alice',
      reason: 'revoked',
      attempts: 1,
      dueAt: now,
      expiresAt: now + 60_000,
    });
    // A slow vendor answer: both sweeps run while the first delete is in flight.
    const slow: Reply = (res, request) =>
      setTimeout(() => reply.json(200, { message: 'ok', session_id: sessionId })(res, request), 200);
    vendor.queue(slow, slow);
    const [first, second] = await Promise.all([one.proxy.sweep(), two.proxy.sweep()]);
    assert.deepEqual([...first.confirmed, ...second.confirmed], [sessionId], JSON.stringify([first, second]));
    assert.equal(vendorDeletes(sessionId), 1);
    await store.close();
  });
});

void describe('the orphan sweep', () => {
  void it('deletes a session no page has shown for orphanAfterMs, and not one a status check or a stream shows', async () => {
    const { proxy, logs } = proxyFor(vendor, { orphanAfterMs: 400 }, { heartbeatMs: 50, sweepIntervalMs: 60_000 });
    const served = await serve(proxy);
    open.push(served);
    const vanished = await createSession(proxy, 'alice');
    const vanishedAt = Date.now();
    const checked = await createSession(proxy, 'alice');
    const streamed = await createSession(proxy, 'alice');
    const stream = await openStream(served.url, { user: 'alice', sessions: [streamed.sessionId] });
    assert.equal(stream.status, 200);

    const checks = setInterval(() => void status(proxy, 'alice', checked.sessionId, checked.cookie), 100);
    try {
      // Not a wait for nothing to happen (the awaited sweep decides what it ends): time for the vanished
      // page's session, and any other a page did not show, to be past orphanAfterMs (400 ms), with room.
      await sleep(Math.max(0, vanishedAt + 600 - Date.now()));
      const result = await proxy.sweep();
      assert.deepEqual(result.orphaned, [vanished.sessionId]);
    } finally {
      clearInterval(checks);
    }
    assert.ok(!vendor.sessions.has(vanished.sessionId), 'the vanished page’s session is deleted at the vendor');
    assert.ok(vendor.sessions.has(checked.sessionId), 'the checked session still runs at the vendor');
    assert.ok(vendor.sessions.has(streamed.sessionId), 'the streamed session still runs at the vendor');
    assert.deepEqual(
      (await proxy.listSessions()).map((s) => s.sessionId).sort(),
      [checked.sessionId, streamed.sessionId].sort(),
    );
    const [event] = await stream.waitForEvents(1);
    assert.deepEqual(JSON.parse(event.data!), { session_id: vanished.sessionId, reason: 'orphaned' });
    assert.ok(
      logs.some((e) => e.event === 'session-orphaned'),
      'the orphan is logged',
    );
    stream.close();
  });

  void it('runs by itself on its timer; orphanAfterMs: 0 turns it off', async () => {
    const offStore = flakyStore();
    const on = proxyFor(vendor, { orphanAfterMs: 200 }, { sweepIntervalMs: 50 });
    const off = proxyFor(vendor, { orphanAfterMs: 0, store: offStore }, { sweepIntervalMs: 50 });
    open.push(offStore); // (closed after the proxy that uses it)
    const a = await createSession(on.proxy, 'alice');
    const b = await createSession(off.proxy, 'alice');
    const bCreatedAt = Date.now();
    await until(() => !vendor.sessions.has(a.sessionId), 3_000, 'the orphan delete');
    // Each run of off's timer asks its store for due deletes once its orphan step is done, and runs
    // never overlap: of two such calls made after b is as old as on's orphanAfterMs, the second's run
    // began after that moment, so a whole sweep of off's ran with b old enough to end, and ended nothing.
    await sleep(Math.max(0, bCreatedAt + 200 - Date.now()));
    const sweepsOfOff = () => offStore.calls.get('dueDeletes') ?? 0;
    const from = sweepsOfOff();
    await until(() => sweepsOfOff() >= from + 2, 3_000, 'two more runs of the timer (the retry queue still runs)');
    assert.ok(vendor.sessions.has(b.sessionId), 'with orphanAfterMs: 0 the session still runs at the vendor');
    assert.deepEqual((await off.proxy.sweep()).orphaned, []);
    assert.ok(vendor.sessions.has(b.sessionId), 'and still after an explicit sweep');
  });
});

void describe('a store that is down', () => {
  void it('creates, status checks and deletes still work; health() says degraded; logged once per outage', async () => {
    const store = flakyStore();
    const { proxy, logs } = proxyFor(vendor, { store });
    assert.deepEqual(await proxy.health(), { store: 'ok' });
    store.down = true;

    const a = await createSession(proxy, 'alice');
    const checked = await status(proxy, 'alice', a.sessionId, a.cookie);
    assert.equal(checked.status, 200);
    assert.equal(checked.body.status, 'active', 'never "terminated" because the store is down');
    const b = await createSession(proxy, 'alice');
    const deleted = await send(
      proxy,
      guardRequest('DELETE', `${BASE_PATH}/${b.sessionId}`, { user: 'alice', cookies: [b.cookie] }),
    );
    assert.equal(deleted.status, 200);
    assert.ok(!vendor.sessions.has(b.sessionId), 'deleted at the vendor while the store is down');

    const health = await proxy.health();
    assert.equal(health.store, 'degraded');
    assert.ok(health.detail && !health.detail.includes('hunter2'), health.detail);
    await assert.rejects(proxy.listSessions(), /the session store did not answer, so listSessions could not run/);
    await assert.rejects(proxy.revokeUser('alice'), /revokeUser could not run/);
    const stream = await send(proxy, guardRequest('GET', `${BASE_PATH}/events`, { user: 'alice' }));
    assert.equal(stream.status, 503);
    assert.equal(stream.body.error.code, 'SERVICE_UNAVAILABLE');

    assert.equal(logs.filter((e) => e.event === 'store-degraded').length, 1);
    for (const entry of logs) assert.ok(!JSON.stringify(entry).includes('hunter2'), JSON.stringify(entry));
    assert.ok(STORE_ERROR.includes('hunter2'), "the store's error holds the password the logs must not show");

    store.down = false;
    await createSession(proxy, 'alice');
    assert.deepEqual(await proxy.health(), { store: 'ok' });
    assert.equal(logs.filter((e) => e.event === 'store-recovered').length, 1);
    assert.equal(logs.filter((e) => e.event === 'store-degraded').length, 1);
  });

  void it('a server-side delete that fails while the store is down is kept in memory and retried', async () => {
    const store = flakyStore();
    const { proxy } = proxyFor(vendor, { store });
    const a = await createSession(proxy, 'alice');
    store.down = true;
    vendor.queue(reply.error(503, 'SERVICE_UNAVAILABLE', 'down', { 'retry-after': '1' }));
    assert.deepEqual(await proxy.revokeSession(a.sessionId), { ended: [], failed: [a.sessionId] });
    await until(() => !vendor.sessions.has(a.sessionId), 8_000, 'the retried delete');
  });
});

void describe('after the store was down', () => {
  void it('no session a page kept checking through the outage is swept as an orphan when the store is back', async () => {
    const store = flakyStore();
    const { proxy, logs } = proxyFor(vendor, { store, orphanAfterMs: 300 }, { sweepIntervalMs: 60_000 });
    const a = await createSession(proxy, 'alice');
    store.down = true;
    // Longer than orphanAfterMs: the page's checks go on, but none of them reaches the registry.
    let answered = 0;
    const checks = setInterval(
      () =>
        void status(proxy, 'alice', a.sessionId, a.cookie).then((answer) => {
          if (answer.status === 200 && answer.body.status === 'active') answered++;
        }),
      50,
    );
    const downAt = Date.now();
    await until(
      () => answered >= 3 && Date.now() - downAt >= 600,
      5_000,
      `three checks answered "active" through an outage of twice orphanAfterMs (${answered} answered)`,
    );
    clearInterval(checks);
    store.down = false;

    // The store is back before the page's next check: the sweep must not take the outage for absence.
    assert.deepEqual((await proxy.sweep()).orphaned, []);
    assert.ok(
      logs.some((e) => e.event === 'store-recovered'),
      'the recovery is logged',
    );
    assert.ok(vendor.sessions.has(a.sessionId), 'still live at the vendor');
    assert.equal((await status(proxy, 'alice', a.sessionId, a.cookie)).body.status, 'active');

    // A page that then goes silent for orphanAfterMs is an orphan as ever. (A time to let pass, not a
    // wait for nothing to happen: past orphanAfterMs, 300 ms, since that check and the recovery, with room.)
    await sleep(700);
    assert.deepEqual((await proxy.sweep()).orphaned, [a.sessionId]);
  });
});

void describe('sessions created while the store is down', () => {
  void it('are registered once it answers again, so revokeUser finds them', async () => {
    const store = flakyStore();
    const { proxy } = proxyFor(vendor, { store });
    const before = await createSession(proxy, 'alice');
    store.down = true;
    const during = await createSession(proxy, 'alice');
    const gone = await createSession(proxy, 'alice');
    // A session ended while the store was down is not registered later.
    await send(
      proxy,
      guardRequest('DELETE', `${BASE_PATH}/${gone.sessionId}`, { user: 'alice', cookies: [gone.cookie] }),
    );
    store.down = false;

    // The first store call that succeeds (here a health check) ends the outage; the catch-up follows.
    assert.deepEqual(await proxy.health(), { store: 'ok' });
    const registered = async () => (await store.list({ userId: 'alice' })).map((session) => session.sessionId);
    for (const deadline = Date.now() + 2_000; !(await registered()).includes(during.sessionId);) {
      assert.ok(Date.now() < deadline, 'the catch-up registers the session created during the outage');
      await sleep(5);
    }
    // listSessions waits for a catch-up still running (and runs one for anything left): after it,
    // the store holds all that will be registered, so the session ended meanwhile is surely not there.
    await proxy.listSessions({ userId: 'alice' });
    assert.deepEqual(
      (await store.list({ userId: 'alice' })).map((session) => session.sessionId),
      [before.sessionId, during.sessionId],
    );
    const [, caughtUp] = await store.list({ userId: 'alice' });
    assert.equal(caughtUp.createdAt, Date.parse(vendor.sessions.get(during.sessionId)!.created_at));

    assert.deepEqual((await proxy.revokeUser('alice')).ended.sort(), [before.sessionId, during.sessionId].sort());
    assert.ok(!vendor.sessions.has(during.sessionId), 'deleted at the vendor');
  });
});

void describe('close()', () => {
  void it('leaves no timer behind: the process exits', () => {
    const script = `
      import { FakeVendor } from './test/proxy/support/fake-vendor.ts';
      import { makeProxy, createSession } from './test/proxy/support/harness.ts';
      import { serve, openStream } from './test/proxy/support/event-stream.ts';
      import { reply } from './test/proxy/support/fake-vendor.ts';
      import { flakyStore } from './test/proxy/support/flaky-store.ts';
      const vendor = new FakeVendor();
      await vendor.listen();
      const store = flakyStore();
      const { proxy } = makeProxy(vendor, { store }, { heartbeatMs: 20, sweepIntervalMs: 20 });
      const served = await serve(proxy);
      const a = await createSession(proxy, 'alice');
      const stream = await openStream(served.url, { user: 'alice', sessions: [a.sessionId] });
      vendor.queue(reply.error(503, 'SERVICE_UNAVAILABLE', 'down', { 'retry-after': '600' }));
      await proxy.revokeUser('alice');
      await stream.waitForEvents(1);
      await proxy.close();
      await stream.ended;
      const total = () => [...store.calls.values()].reduce((a, b) => a + b, 0);
      const calls = total();
      const requests = vendor.requests.length;
      // Every timer of this proxy ran every 20 ms, and timers run in the order they are due: one left
      // running is due long before this wait ends and runs first (its store call is made at once),
      // however slow the machine. The check of active timers below is the other half.
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (total() !== calls || vendor.requests.length !== requests) {
        console.error('background work after close()');
        process.exitCode = 4;
      }
      await served.close();
      await vendor.close();
      const left = process.getActiveResourcesInfo().filter((r) => r === 'Timeout');
      if (left.length > 0) { console.error('timers left: ' + left.length); process.exitCode = 3; }
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 15_000,
      encoding: 'utf8',
    });
    assert.equal(run.signal, null, `the process did not exit by itself: ${run.stderr}`);
    assert.equal(run.status, 0, run.stderr);
  });
});
