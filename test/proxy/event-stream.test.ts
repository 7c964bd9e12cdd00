// GET {proxy}/events over real HTTP, read as the browser's stream client reads it: a revocation reaches
// every open stream of that user within a second and nobody else's; a dropped stream resumes with
// Last-Event-ID and loses nothing, repeats nothing; the same 401/403 as every route; heartbeats keep
// the sessions it reports alive; one store subscription however many streams; close() ends them all.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import express from 'express';
import { compareFeedIds, memoryStore, toNodeListener, type WidgetSessionProxy } from '../../src/proxy/index.js';
import { openStream, serve, until, type OpenStream, type Served } from './support/event-stream.js';
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
  for (const item of open.splice(0).reverse()) await item.close();
});

async function served(...args: Parameters<typeof makeProxy>): Promise<TestProxy & { url: string }> {
  const made = makeProxy(...args);
  open.push(made.proxy);
  const server = await serve(made.proxy);
  open.push(server);
  return { ...made, url: server.url };
}

/**
 * Resolves once two more heartbeats have reached `stream` (in tests whose proxy beats every 50 ms).
 * One connection keeps its order, and the second of them was written after anything the proxy had
 * written to the stream before now (the first may have been on its way already): what "nothing
 * else came" checks wait for instead of a sleep.
 */
const flushed = (stream: OpenStream) => stream.waitForComments(stream.comments.length + 2);
const FAST_HEARTBEAT = { heartbeatMs: 50 };

const ended = (data: string | undefined) => JSON.parse(data ?? 'null') as { session_id: string; reason: string };

void describe('GET {proxy}/events', () => {
  void it('revokeUser: every stream of that user gets `event: ended` (reason revoked) within a second; another user’s gets nothing', async () => {
    const { proxy, url } = await served(vendor, {}, FAST_HEARTBEAT);
    const phone = await createSession(proxy, 'alice');
    const laptop = await createSession(proxy, 'alice');
    const bob = await createSession(proxy, 'bob');
    const phoneStream = await openStream(url, { user: 'alice', sessions: [phone.sessionId] });
    const laptopStream = await openStream(url, { user: 'alice', sessions: [laptop.sessionId] });
    const bobStream = await openStream(url, { user: 'bob', sessions: [bob.sessionId] });

    assert.equal(phoneStream.status, 200);
    assert.match(phoneStream.headers.get('content-type')!, /^text\/event-stream/);
    assert.equal(phoneStream.headers.get('cache-control'), 'no-store');
    assert.equal(phoneStream.headers.get('x-accel-buffering'), 'no');

    const started = Date.now();
    const result = await proxy.revokeUser('alice');
    assert.equal(result.ended.length, 2);
    for (const stream of [phoneStream, laptopStream]) {
      const events = await stream.waitForEvents(2, 1_000);
      assert.ok(Date.now() - started < 1_000, `the revocation reached a stream only after ${Date.now() - started} ms`);
      assert.deepEqual(
        events.map((e) => e.event),
        ['ended', 'ended'],
      );
      assert.deepEqual(
        events.map((e) => ended(e.data)).sort((a, b) => (a.session_id < b.session_id ? -1 : 1)),
        [phone.sessionId, laptop.sessionId].sort().map((id) => ({ session_id: id, reason: 'revoked' })),
      );
      for (const event of events) assert.match(event.id!, /^\d+-\d+$/);
    }
    assert.equal(vendorDeletes(phone.sessionId) + vendorDeletes(laptop.sessionId), 2, 'the vendor saw both deletes');
    // The proxy writes an event to every stream it is for at once: one for Bob went with theirs.
    await flushed(bobStream);
    assert.deepEqual(bobStream.events, [], 'another user’s stream hears nothing');
    for (const stream of [phoneStream, laptopStream, bobStream]) stream.close();
  });

  void it('carries the reason of every server-side end: a logout elsewhere, a status check that found it terminated', async () => {
    const { proxy, url } = await served(vendor);
    const a = await createSession(proxy, 'alice');
    const b = await createSession(proxy, 'alice');
    const stream = await openStream(url, { user: 'alice' });
    await send(proxy, guardRequest('DELETE', `${BASE_PATH}/${a.sessionId}`, { user: 'alice', cookies: [a.cookie] }));
    vendor.sessions.get(b.sessionId)!.status = 'terminated';
    await send(proxy, guardRequest('GET', `${BASE_PATH}/${b.sessionId}`, { user: 'alice', cookies: [b.cookie] }));
    const events = await stream.waitForEvents(2);
    assert.deepEqual(
      events.map((e) => ended(e.data)),
      [
        { session_id: a.sessionId, reason: 'logout' },
        { session_id: b.sessionId, reason: 'terminated' },
      ],
    );
    stream.close();
  });

  void it('Last-Event-ID: after a dropped connection the event sent meanwhile arrives exactly once, then live ones', async () => {
    const { proxy, url } = await served(vendor, {}, FAST_HEARTBEAT);
    const [a, b, c] = [
      await createSession(proxy, 'alice'),
      await createSession(proxy, 'alice'),
      await createSession(proxy, 'alice'),
    ];
    const first = await openStream(url, { user: 'alice', sessions: [a.sessionId, b.sessionId, c.sessionId] });
    await proxy.revokeSession(a.sessionId);
    const [seen] = await first.waitForEvents(1);
    first.close(); // the network drops

    await proxy.revokeSession(b.sessionId); // sent while nobody listens
    await proxy.revokeUser('bob'); // nothing of alice's

    const resumed = await openStream(url, { user: 'alice', sessions: [c.sessionId], lastEventId: seen.id });
    const [missed] = await resumed.waitForEvents(1);
    assert.deepEqual(ended(missed.data), { session_id: b.sessionId, reason: 'revoked' });
    await proxy.revokeSession(c.sessionId);
    const events = await resumed.waitForEvents(2);
    await flushed(resumed);
    assert.deepEqual(
      resumed.events.map((e) => ended(e.data).session_id),
      [b.sessionId, c.sessionId],
      'nothing lost, nothing twice',
    );
    assert.ok(
      compareFeedIds(events[0].id!, seen.id!) > 0,
      'the resumed stream repeated an event from before the id it resumed from',
    );
    resumed.close();
  });

  void it('a stream dropped before its first event resumes from the id it opened with: nothing sent meanwhile is lost', async () => {
    const { proxy, url } = await served(vendor);
    const a = await createSession(proxy, 'alice');
    const first = await openStream(url, { user: 'alice', sessions: [a.sessionId] });
    await until(() => first.lastId !== undefined, 2_000, 'the resume point');
    assert.deepEqual(first.events, [], 'an id alone is no event');
    first.close(); // the network drops before anything happened
    await proxy.revokeSession(a.sessionId); // sent while nobody listens
    const resumed = await openStream(url, { user: 'alice', lastEventId: first.lastId });
    const [missed] = await resumed.waitForEvents(1);
    assert.deepEqual(ended(missed.data), { session_id: a.sessionId, reason: 'revoked' });
    // Once the instance has seen the feed, the resume point is its newest entry.
    const later = await openStream(url, { user: 'alice' });
    await until(() => later.lastId !== undefined, 2_000, 'the resume point');
    assert.equal(later.lastId, missed.id);
    resumed.close();
    later.close();
  });

  void it('resuming while events are published loses and repeats nothing', async () => {
    // Twelve live sessions of one user: above the default maxSessionsPerUser (10).
    const { proxy, url } = await served(
      vendor,
      { rateLimit: { creates: 100 }, maxSessionsPerUser: 12 },
      FAST_HEARTBEAT,
    );
    const sessions = [];
    for (let i = 0; i < 12; i++) sessions.push(await createSession(proxy, 'alice'));
    const first = await openStream(url, { user: 'alice' });
    await proxy.revokeSession(sessions[0].sessionId);
    const [seen] = await first.waitForEvents(1);
    first.close();
    // Revocations race the reconnect: some land in the history, some live, some in between.
    const racing = Promise.all(sessions.slice(1).map((s) => proxy.revokeSession(s.sessionId)));
    const resumed = await openStream(url, { user: 'alice', lastEventId: seen.id });
    await racing;
    await resumed.waitForEvents(11);
    // Every revocation has been delivered (each once, and a repeat goes with it or with the replay).
    await flushed(resumed);
    const ids = resumed.events.map((e) => ended(e.data).session_id);
    assert.deepEqual(
      [...ids].sort(),
      sessions
        .slice(1)
        .map((s) => s.sessionId)
        .sort(),
    );
    assert.equal(new Set(resumed.events.map((e) => e.id)).size, 11);
    resumed.close();
  });

  void it('the same checks as every route: 401 without sign-in, 403 from another site or without the guard header', async () => {
    const { url } = await served(vendor);
    const anonymous = await openStream(url, {});
    assert.equal(anonymous.status, 401);
    assert.equal(JSON.parse(anonymous.text).error.code, 'AUTHENTICATION_REQUIRED');
    const foreign = await openStream(url, { user: 'alice', origin: 'https://evil.test' });
    assert.equal(foreign.status, 403);
    assert.equal(JSON.parse(foreign.text).error.code, 'CROSS_SITE_REQUEST_REFUSED');
    const noHeader = await openStream(url, { user: 'alice', guardHeader: null });
    assert.equal(noHeader.status, 403);
    assert.equal(JSON.parse(noHeader.text).error.code, 'GUARD_HEADER_REQUIRED');
  });

  void it('bad input is a 400 in the vendor error schema, before anything is opened', async () => {
    const { proxy } = await served(vendor);
    const get = (query: string, headers: Record<string, string> = {}) =>
      send(
        proxy,
        guardRequest('GET', `${BASE_PATH}/events${query}`, {
          user: 'alice',
          headers: { accept: 'text/event-stream', ...headers },
        }),
      );
    assertError(await get('?session=..%2Fetc'), 400, 'VALIDATION_ERROR');
    assert.match((await get('?session=')).body.error.message, /session id is empty/);
    const many = Array.from({ length: 65 }, (_, i) => `session=s${i}`).join('&');
    assert.match((await get(`?${many}`)).body.error.message, /at most 64/);
    assertError(await get('', { 'last-event-id': 'yesterday' }), 400, 'VALIDATION_ERROR');
    assertError(await get('', { accept: 'application/json' }), 406, 'NOT_ACCEPTABLE');
    const post = await send(proxy, guardRequest('POST', `${BASE_PATH}/events`, { user: 'alice' }));
    assertError(post, 405, 'METHOD_NOT_ALLOWED');
    assert.equal(post.headers.get('allow'), 'GET');
  });

  void it('heartbeats: a `: ping` comment each interval, and the sessions it reports (the user’s only) stay seen with their page count', async () => {
    const { proxy, url } = await served(vendor, {}, { heartbeatMs: 50 });
    const mine = await createSession(proxy, 'alice');
    const bobs = await createSession(proxy, 'bob');
    const tabA = await openStream(url, { user: 'alice', sessions: [mine.sessionId, bobs.sessionId, 'sess_unknown'] });
    const tabB = await openStream(url, { user: 'alice', sessions: [mine.sessionId] });
    const [before] = await proxy.listSessions({ userId: 'alice' });
    await tabA.waitForComments(3);
    assert.ok(
      tabA.comments.filter((c) => c === 'ping').length >= 2,
      'fewer than 2 `: ping` heartbeats in the first 3 comments',
    );
    const [after] = await proxy.listSessions({ userId: 'alice' });
    assert.ok(after.lastSeenAt > before.lastSeenAt, 'touched by the heartbeat');
    assert.equal(after.pages, 2, 'two open streams report it');
    const [bobRecord] = await proxy.listSessions({ userId: 'bob' });
    assert.equal(bobRecord.pages, 0, 'a session of another user is not counted');
    tabB.close();
    const pages = async () => (await proxy.listSessions({ userId: 'alice' }))[0].pages;
    // Told at the next heartbeat: wait for it (up to 2 s) rather than guess.
    for (const deadline = Date.now() + 2_000; (await pages()) !== 1 && Date.now() < deadline;) await sleep(10);
    assert.equal(await pages(), 1, 'a closed stream no longer counts');
    tabA.close();
  });

  void it('a dropped client frees its stream: its sessions are no longer touched', async () => {
    const { proxy, url } = await served(vendor, {}, { heartbeatMs: 30 });
    const a = await createSession(proxy, 'alice');
    const stream = await openStream(url, { user: 'alice', sessions: [a.sessionId] });
    // Another user's stream on the same instance: its pings count the heartbeats, each of which
    // touches every session a stream reports.
    const b = await createSession(proxy, 'bob');
    const other = await openStream(url, { user: 'bob', sessions: [b.sessionId] });
    await stream.waitForComments(2);
    stream.close();
    const alices = async () => (await proxy.listSessions({ userId: 'alice' }))[0];
    // The proxy has seen the drop once the session shows no page (up to 2 s).
    for (const deadline = Date.now() + 2_000; (await alices()).pages !== 0 && Date.now() < deadline;) await sleep(10);
    const frozen = await alices();
    // Three heartbeats after it (the first ping may have been on its way; the touch follows each ping).
    await other.waitForComments(other.comments.length + 3);
    const later = await alices();
    assert.equal(later.lastSeenAt, frozen.lastSeenAt);
    assert.equal(later.pages, 0);
  });

  void it('one store subscription per proxy instance, however many streams', async () => {
    const store = flakyStore(memoryStore());
    const { proxy, url } = await served(vendor, { store });
    await createSession(proxy, 'alice');
    const streams = await Promise.all(Array.from({ length: 40 }, (_, i) => openStream(url, { user: `user${i % 4}` })));
    for (const stream of streams) assert.equal(stream.status, 200);
    assert.equal(store.calls.get('follow'), 1);
    await proxy.revokeUser('alice');
    for (const stream of streams) stream.close();
    await store.close();
  });

  void it('close() ends every open stream', async () => {
    const { proxy, url } = await served(vendor);
    const streams = [await openStream(url, { user: 'alice' }), await openStream(url, { user: 'bob' })];
    await proxy.close();
    await Promise.all(streams.map((s) => s.ended));
    const after = await openStream(url, { user: 'alice' });
    assert.equal(after.status, 503, 'a closed proxy opens no new stream');
  });

  void it('streams through Express (toNodeListener as middleware) as it does on node:http', async () => {
    const made = makeProxy(vendor);
    open.push(made.proxy);
    const app = express();
    app.use(toNodeListener(made.proxy));
    const server = await serve(app);
    open.push(server);
    const a = await createSession(made.proxy, 'alice');
    const stream = await openStream(server.url, { user: 'alice', sessions: [a.sessionId] });
    assert.equal(stream.status, 200);
    await made.proxy.revokeUser('alice');
    const [event] = await stream.waitForEvents(1, 1_000);
    assert.deepEqual(ended(event.data), { session_id: a.sessionId, reason: 'revoked' });
    stream.close();
  });
});

function vendorDeletes(id: string): number {
  return vendor.requests.filter((r) => r.method === 'DELETE' && r.url.endsWith(`/${id}`)).length;
}
