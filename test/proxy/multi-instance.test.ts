// Several proxy instances as separate processes on their own ports, one Redis between them (started,
// killed and restarted by this file), one fake vendor: what a site behind a load balancer relies on.
// A revocation on one instance reaches a page streaming from another within a second; a crashed
// instance's delete is taken over once its lease lapses; rate limits and live-session caps count
// every instance together; Redis restarting or going away loses nothing and never turns a live
// session into a terminated one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisStore } from '../../src/proxy/redis.js';
import { isFeedId, type WidgetSessionStore } from '../../src/proxy/store/store.js';
import { openStream, until, type OpenStream } from './support/event-stream.js';
import { FakeVendor, reply } from './support/fake-vendor.js';
import { assertSecretsNeverSaid, BASE_PATH, SITE } from './support/harness.js';
import { ProxyInstance, type InstanceOptions } from './support/proxy-instances.js';
import { RedisServer } from './support/redis-server.js';

// Durable, as a production Redis is: a kill -9 and restart keeps the registry and the queue.
const redis = new RedisServer({ durable: true });
const vendor = new FakeVendor();
const PREFIX = `multi-${process.pid}:`;

let a: ProxyInstance;
let b: ProxyInstance;
const started: ProxyInstance[] = [];
/** The store as a third party sees it: what the instances left in Redis. */
let inspect: WidgetSessionStore;

async function instance(overrides: Partial<InstanceOptions> = {}): Promise<ProxyInstance> {
  const started_ = await ProxyInstance.start({
    redisUrl: redis.url,
    prefix: PREFIX,
    vendorUrl: vendor.baseUrl,
    // The timers stay out of the way; each test sweeps when it means to.
    sweepIntervalMs: 600_000,
    heartbeatMs: 1_000,
    ...overrides,
  });
  started.push(started_);
  return started_;
}

// One hook each way, in order: Node 20 runs a file's root hooks side by side.
before(async () => {
  await Promise.all([redis.start(), vendor.listen()]);
  [a, b] = await Promise.all([instance(), instance()]);
  inspect = redisStore({ url: redis.url, prefix: PREFIX });
});
after(async () => {
  await Promise.all(started.map((running) => running.stop()));
  await inspect?.close();
  await vendor.close();
  await redis.stop();
  assertSecretsNeverSaid();
});

let users = 0;
const freshUser = () => `user${++users}`;

function guardFetch(url: string, method: string, path: string, user: string, cookies: string[] = []) {
  return fetch(`${url}${path}`, {
    method,
    headers: {
      'x-konpro-guard': '1',
      origin: SITE,
      'sec-fetch-site': 'same-origin',
      cookie: [`site_user=${user}`, ...cookies].join('; '),
    },
  });
}

/** Creates a session for `user` through `via`; its id and binding cookie. */
async function createSession(via: ProxyInstance, user: string): Promise<{ sessionId: string; cookie: string }> {
  const response = await guardFetch(via.url, 'POST', BASE_PATH, user);
  assert.equal(response.status, 201, await response.clone().text());
  const body = (await response.json()) as { session_id: string };
  return { sessionId: body.session_id, cookie: response.headers.getSetCookie()[0].split(';')[0] };
}

/** A page following the event stream of `via` for its session. */
async function streamFor(via: ProxyInstance, user: string, session: { sessionId: string; cookie: string }) {
  const stream = await openStream(via.url, { user, cookies: [session.cookie], sessions: [session.sessionId] });
  assert.equal(stream.status, 200, stream.text);
  await stream.waitForComments(1, 5_000);
  return stream;
}

function endedEvents(stream: OpenStream) {
  return stream.events
    .filter((event) => event.event === 'ended')
    .map((event) => ({ id: event.id, ...(JSON.parse(event.data ?? '{}') as { session_id: string; reason: string }) }));
}

const deletesOf = (sessionId: string) =>
  vendor.requests.filter((request) => request.method === 'DELETE' && request.url.endsWith(`/${sessionId}`));

void describe('several proxy instances on one Redis', () => {
  void it('a page streaming from instance B ends within a second when instance A revokes its user', async () => {
    const user = freshUser();
    const session = await createSession(a, user);
    assert.deepEqual(
      (await b.call<Array<{ sessionId: string }>>('listSessions', { userId: user })).map((s) => s.sessionId),
      [session.sessionId],
      'B sees the session A created',
    );
    const stream = await streamFor(b, user, session);

    const revokedAt = Date.now();
    const result = await a.call<{ ended: string[]; failed: string[] }>('revokeUser', user);
    assert.deepEqual(result, { ended: [session.sessionId], failed: [] });
    await until(() => endedEvents(stream).length > 0, 1_000, 'the ended event on B');
    const elapsed = Date.now() - revokedAt;
    assert.ok(elapsed < 1_000, `reached B after ${elapsed} ms`);

    const [event] = endedEvents(stream);
    assert.equal(event.session_id, session.sessionId);
    assert.equal(event.reason, 'revoked');
    assert.ok(isFeedId(event.id ?? ''), `id: ${event.id} is a feed id`);
    assert.equal(deletesOf(session.sessionId).length, 1, 'deleted at the vendor once');
    assert.deepEqual(await b.call('listSessions', { userId: user }), []);
    stream.close();
  });

  void it('a page that reconnects to the other instance with Last-Event-ID gets what it missed, once', async () => {
    const user = freshUser();
    const first = await createSession(a, user);
    const second = await createSession(b, user);
    const third = await createSession(a, user);
    const onA = await streamFor(a, user, first);
    await a.call('revokeSession', first.sessionId);
    await until(() => endedEvents(onA).length === 1, 2_000, 'the first ended event');
    const lastId = endedEvents(onA)[0].id!;
    onA.close();

    // Revoked while the page had no stream; it comes back through the other instance.
    await a.call('revokeSession', second.sessionId);
    const onB = await openStream(b.url, { user, cookies: [second.cookie], lastEventId: lastId });
    assert.equal(onB.status, 200, onB.text);
    await until(() => endedEvents(onB).length >= 1, 2_000, 'the missed event');
    // A later end of the user's: once it reaches the stream, B's follower has read past the missed
    // one (the feed is read in order, one connection keeps its order), so a repeat would be here.
    await a.call('revokeSession', third.sessionId);
    await until(() => endedEvents(onB).some((event) => event.session_id === third.sessionId), 2_000, 'the later event');
    assert.deepEqual(
      endedEvents(onB).map((event) => event.session_id),
      [second.sessionId, third.sessionId],
    );
    onB.close();
  });

  void it("a killed instance's queued delete is taken over by another once its lease lapses", async () => {
    // C gives up on the vendor after 300 ms, so its leases last 5.3 s (timeout + 5 s).
    const c = await instance({ timeoutMs: 300 });
    const user = freshUser();
    const { sessionId } = await createSession(c, user);

    vendor.queue(reply.error(503, 'SERVICE_UNAVAILABLE'));
    assert.deepEqual(await c.call('revokeUser', user), { ended: [], failed: [sessionId] });
    assert.deepEqual(
      (await inspect.dueDeletes(Date.now() + 60_000, 1_000)).map((entry) => entry.sessionId),
      [sessionId],
      'the delete is queued in Redis, not in C',
    );

    // C retries on its own (within a second) and dies with the vendor call in flight, holding the lease.
    vendor.queue(reply.hang());
    await until(() => deletesOf(sessionId).length === 2, 5_000, "C's retry");
    const crashedAt = Date.now();
    await c.kill();

    const early = await b.call<{ retried: string[] }>('sweep');
    assert.ok(!early.retried.includes(sessionId), 'B leaves it alone while C might still be sending it');
    assert.equal(deletesOf(sessionId).length, 2);

    let confirmed = false;
    for (let round = 0; !confirmed && round < 40; round++) {
      await sleep(400);
      const swept = (await b.call<{ confirmed: string[] }>('sweep')).confirmed;
      // B's own timer may run the sweep that confirms it (on a busy machine it often does): then the
      // vendor has seen B's DELETE and the queue no longer holds it.
      confirmed =
        swept.includes(sessionId) ||
        (deletesOf(sessionId).length >= 3 &&
          !(await inspect.dueDeletes(Date.now() + 3_600_000, 1_000)).some((entry) => entry.sessionId === sessionId));
    }
    const tookOverAfter = Date.now() - crashedAt;
    assert.ok(confirmed, 'B confirmed the delete');
    assert.ok(tookOverAfter >= 4_000, `not before the lease lapsed (took over after ${tookOverAfter} ms)`);
    assert.equal(deletesOf(sessionId).length, 3, 'one more DELETE, from B');
    assert.ok(!vendor.sessions.has(sessionId), 'deleted at the vendor');
    assert.deepEqual(
      (await inspect.dueDeletes(Date.now() + 60_000, 1_000)).filter((entry) => entry.sessionId === sessionId),
      [],
    );
  });
});

void describe('several proxy instances: limits and caps count across them', () => {
  // A pair of their own, on a prefix of their own, so the site-wide count is theirs alone.
  let one: ProxyInstance;
  let two: ProxyInstance;
  before(async () => {
    const limited: Partial<InstanceOptions> = {
      prefix: `${PREFIX}limits:`,
      proxyOptions: {
        rateLimit: { creates: 3, reads: 4 },
        statusCacheMs: 0,
        maxSessionsPerUser: 2,
        maxLiveSessions: 4,
      },
    };
    [one, two] = await Promise.all([instance(limited), instance(limited)]);
  });

  const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

  void it('a user reaches the create limit once, not once per instance', async () => {
    const user = freshUser();
    for (const via of [one, two, one]) await createSession(via, user);
    const refused = await guardFetch(two.url, 'POST', BASE_PATH, user);
    assert.equal(refused.status, 429, 'the fourth create, the second on this instance');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After of a second or more');
    assert.equal(await errorCode(refused), 'RATE_LIMIT_EXCEEDED');
    const other = freshUser();
    await createSession(two, other);
    for (const done of [user, other]) await one.call('revokeUser', done);
  });

  void it('status checks that reach the vendor count on every instance; a limited one is never "terminated"', async () => {
    const user = freshUser();
    const session = await createSession(one, user);
    const check = (via: ProxyInstance) =>
      guardFetch(via.url, 'GET', `${BASE_PATH}/${session.sessionId}`, user, [session.cookie]);
    for (const via of [one, two, one, two]) {
      const answer = await check(via);
      assert.equal(answer.status, 200);
      assert.equal(((await answer.json()) as { status: string }).status, 'active');
    }
    const limited = await check(one);
    assert.equal(limited.status, 429);
    assert.equal(await errorCode(limited), 'RATE_LIMIT_EXCEEDED');
    const reads = vendor.requests.filter((r) => r.method === 'GET' && r.url.endsWith(`/${session.sessionId}`));
    assert.equal(reads.length, 4);
    await one.call('revokeUser', user);
  });

  void it('at maxSessionsPerUser a create on either instance ends the oldest, wherever it was made', async () => {
    const user = freshUser();
    const first = await createSession(one, user);
    const second = await createSession(two, user);
    const stream = await streamFor(two, user, first);
    const third = await createSession(one, user);
    assert.ok(!vendor.sessions.has(first.sessionId), 'the oldest is deleted at the vendor');
    assert.equal(deletesOf(first.sessionId).length, 1);
    assert.deepEqual(
      (await two.call<Array<{ sessionId: string }>>('listSessions', { userId: user })).map((s) => s.sessionId),
      [second.sessionId, third.sessionId],
    );
    await until(() => endedEvents(stream).length > 0, 2_000, 'the ended event on the other instance');
    assert.deepEqual(
      endedEvents(stream).map(({ session_id, reason }) => ({ session_id, reason })),
      [{ session_id: first.sessionId, reason: 'revoked' }],
    );
    stream.close();
    await one.call('revokeUser', user);
  });

  void it('creates of one user on both instances at the same moment leave at most the cap, the excess ended once', async () => {
    const user = freshUser();
    const first = await createSession(one, user);
    // Both count one live session (under the cap of 2) before either registers its own: the vendor
    // takes a moment to create each, longer than the two instances take to count.
    vendor.latencyMs = 300;
    const [a, b] = await Promise.all([createSession(one, user), createSession(two, user)]).finally(() => {
      vendor.latencyMs = 0;
    });
    assert.deepEqual(
      new Set((await one.call<Array<{ sessionId: string }>>('listSessions', { userId: user })).map((s) => s.sessionId)),
      new Set([a.sessionId, b.sessionId]),
    );
    assert.ok(!vendor.sessions.has(first.sessionId), 'the oldest is deleted at the vendor');
    assert.equal(deletesOf(first.sessionId).length, 1, 'by one of the two instances');
    assert.ok(vendor.sessions.has(a.sessionId) && vendor.sessions.has(b.sessionId), 'the new ones run');
    await one.call('revokeUser', user);
  });

  void it('maxLiveSessions holds for the site, whichever instance a create reaches', async () => {
    const users = [freshUser(), freshUser(), freshUser(), freshUser()];
    for (const [index, user] of users.entries()) await createSession(index % 2 ? two : one, user);
    const late = freshUser();
    const refused = await guardFetch(two.url, 'POST', BASE_PATH, late);
    assert.equal(refused.status, 429);
    assert.equal(await errorCode(refused), 'CAPACITY_REACHED');
    assert.equal(refused.headers.get('retry-after'), '30');
    await one.call('revokeUser', users[0]);
    await createSession(two, late);
    for (const user of [...users, late]) await two.call('revokeUser', user);
  });
});

void describe('several proxy instances when Redis restarts or goes away', () => {
  void it('a revocation made right after Redis restarts still reaches every stream, once', async () => {
    const user = freshUser();
    const one = await createSession(a, user);
    const two = await createSession(b, user);
    const streams = [await streamFor(a, user, one), await streamFor(b, user, two), await streamFor(b, user, one)];

    await redis.kill();
    await redis.restart();
    // Right after: the site's admin action, retried until the instance's store answers again.
    const deadline = Date.now() + 10_000;
    let result: { ended: string[]; failed: string[] } | undefined;
    while (!result) {
      result = await a.call<{ ended: string[]; failed: string[] }>('revokeUser', user).catch(() => undefined);
      if (!result) {
        assert.ok(Date.now() < deadline, 'the store answers again within 10 s of the restart');
        await sleep(50);
      }
    }
    const revokedAt = Date.now();
    assert.deepEqual([...result.ended].sort(), [one.sessionId, two.sessionId].sort());

    await until(() => streams.every((stream) => endedEvents(stream).length >= 2), 3_000, 'every stream to hear both');
    const elapsed = Date.now() - revokedAt;
    assert.ok(elapsed < 3_000, `every stream heard it ${elapsed} ms after the revocation`);
    // A later end of the user's: once every stream has it, each instance's follower has read past the
    // two above (the feed is read in order, one connection keeps its order), so a repeat would be here.
    const later = await createSession(a, user);
    await a.call('revokeSession', later.sessionId);
    await until(
      () => streams.every((stream) => endedEvents(stream).some((event) => event.session_id === later.sessionId)),
      3_000,
      'every stream to hear the later end',
    );
    for (const stream of streams) {
      assert.deepEqual(
        endedEvents(stream)
          .slice(0, 2)
          .map((event) => event.session_id)
          .sort(),
        [one.sessionId, two.sessionId].sort(),
        'each ended session once, on every stream',
      );
      assert.deepEqual(
        endedEvents(stream)
          .slice(2)
          .map((event) => event.session_id),
        [later.sessionId],
        'the later end once, and nothing repeated before it',
      );
      stream.close();
    }
  });

  void it('with Redis away, creates, status checks and deletes go on through the vendor; health says degraded; it catches up when Redis is back', async () => {
    const user = freshUser();
    const before = await createSession(a, user);
    await redis.kill();
    let during: { sessionId: string; cookie: string };
    try {
      during = await createSession(b, user);
      for (const [via, session] of [
        [b, before],
        [a, during],
      ] as const) {
        const status = await guardFetch(via.url, 'GET', `${BASE_PATH}/${session.sessionId}`, user, [session.cookie]);
        assert.equal(status.status, 200, 'a store that is down never makes a status check say "gone"');
        assert.equal(((await status.json()) as { status: string }).status, 'active');
      }
      const health = await a.call<{ store: string; detail?: string }>('health');
      assert.equal(health.store, 'degraded');
      assert.doesNotMatch(health.detail ?? '', /redis:\/\//);
      const stream = await openStream(b.url, { user, cookies: [during.cookie], sessions: [during.sessionId] });
      assert.equal(stream.status, 503, 'no stream without the feed: the page keeps its status checks');

      // The page's own logout goes through.
      const deleted = await guardFetch(b.url, 'DELETE', `${BASE_PATH}/${during.sessionId}`, user, [during.cookie]);
      assert.equal(deleted.status, 200);
      // A server-side revocation the vendor cannot take now is kept by the instance until Redis is back.
      vendor.queue(reply.error(503, 'SERVICE_UNAVAILABLE'));
      assert.deepEqual(await a.call('revokeSession', before.sessionId), { ended: [], failed: [before.sessionId] });
      assert.ok(
        a.logs.some((entry) => entry.event === 'store-degraded'),
        'A logged the outage',
      );
    } finally {
      await redis.restart();
    }

    const deadline = Date.now() + 10_000;
    for (;;) {
      const [healthA, healthB] = await Promise.all([
        a.call<{ store: string }>('health'),
        b.call<{ store: string }>('health'),
      ]);
      if (healthA.store === 'ok' && healthB.store === 'ok') break;
      assert.ok(Date.now() < deadline, 'both instances see Redis again within 10 s');
      await sleep(100);
    }
    assert.ok(
      a.logs.some((entry) => entry.event === 'store-recovered'),
      'A logged the recovery',
    );

    // The delete A kept through the outage reaches the vendor (by its own retry timer, or this sweep).
    for (let round = 0; vendor.sessions.has(before.sessionId) && round < 30; round++) {
      await a.call('sweep');
      if (vendor.sessions.has(before.sessionId)) await sleep(200);
    }
    assert.ok(!vendor.sessions.has(before.sessionId), 'the delete A kept was sent');
    assert.ok(deletesOf(before.sessionId).length >= 2, 'after the refused first attempt');
    assert.ok(!vendor.sessions.has(during.sessionId), "the page's own delete reached the vendor");

    // And the shared registry works again across instances.
    const next = await createSession(b, user);
    const stream = await streamFor(a, user, next);
    await b.call('revokeUser', user);
    await until(
      () => endedEvents(stream).some((event) => event.session_id === next.sessionId),
      1_000,
      'the revocation',
    );
    stream.close();
  });
  void it('a session created while Redis is away is registered once it is back: a revocation on the other instance ends it', async () => {
    const user = freshUser();
    await redis.kill();
    let during: { sessionId: string; cookie: string };
    try {
      during = await createSession(a, user);
      const status = await guardFetch(a.url, 'GET', `${BASE_PATH}/${during.sessionId}`, user, [during.cookie]);
      assert.equal(((await status.json()) as { status: string }).status, 'active');
    } finally {
      await redis.restart();
    }
    // A's next store call (its health route, a page's request, its sweep) ends its outage; it catches up.
    const deadline = Date.now() + 10_000;
    while ((await a.call<{ store: string }>('health')).store !== 'ok') {
      assert.ok(Date.now() < deadline, 'A sees Redis again within 10 s');
      await sleep(100);
    }
    // B's client reconnects on its own time: until it has, listSessions rejects ("the client is offline").
    while ((await b.call<{ store: string }>('health')).store !== 'ok') {
      assert.ok(Date.now() < deadline, 'B sees Redis again within 10 s');
      await sleep(100);
    }
    let listed: string[] = [];
    while (!listed.includes(during.sessionId)) {
      assert.ok(Date.now() < deadline, 'B lists the session A created during the outage');
      await sleep(50);
      listed = (await b.call<Array<{ sessionId: string }>>('listSessions', { userId: user })).map((s) => s.sessionId);
    }
    const stream = await streamFor(b, user, during);
    assert.deepEqual(await b.call('revokeUser', user), { ended: [during.sessionId], failed: [] });
    assert.ok(!vendor.sessions.has(during.sessionId), 'deleted at the vendor');
    await until(() => endedEvents(stream).length > 0, 1_000, 'the ended event');
    assert.equal(endedEvents(stream)[0].reason, 'revoked');
    stream.close();
  });
});

void describe('several proxy instances: the orphan sweep', () => {
  void it("a killed instance's orphan delete is taken over by another once its lease lapses", async () => {
    // C gives up on the vendor after 1.5 s, so its leases last 6.5 s (timeout + 5 s). The test must
    // kill C while its delete hangs, before that time-out (then C would send it again itself): with
    // 300 ms a loaded machine sometimes took longer than that between the delete's arrival and the kill.
    const c = await instance({ timeoutMs: 1_500, orphanAfterMs: 500 });
    const user = freshUser();
    const { sessionId } = await createSession(c, user);
    // Time to let pass, not a wait for nothing to happen: the session is past orphanAfterMs (500 ms).
    await sleep(800);
    vendor.queue(reply.hang());
    void c.call('sweep').catch(() => undefined);
    await until(() => deletesOf(sessionId).length === 1, 5_000, "C's orphan delete");
    const crashedAt = Date.now();
    await c.kill();
    assert.ok(vendor.sessions.has(sessionId), 'C died with its delete in flight');
    assert.deepEqual(
      (await inspect.dueDeletes(Date.now() + 60_000, 1_000))
        .filter((entry) => entry.sessionId === sessionId)
        .map((entry) => entry.reason),
      ['orphaned'],
      'written ahead: the delete C was sending is in the queue in Redis',
    );
    assert.deepEqual(await b.call('listSessions', { userId: user }), [], 'and out of the registry');

    const early = await b.call<{ retried: string[] }>('sweep');
    assert.ok(!early.retried.includes(sessionId), 'B leaves it alone while C might still be sending it');
    for (let round = 0; vendor.sessions.has(sessionId) && round < 40; round++) {
      await sleep(400);
      await b.call('sweep');
    }
    const tookOverAfter = Date.now() - crashedAt;
    assert.ok(!vendor.sessions.has(sessionId), 'another instance deleted the orphan C was deleting when it died');
    assert.ok(tookOverAfter >= 4_000, `not before the lease lapsed (took over after ${tookOverAfter} ms)`);
    assert.equal(deletesOf(sessionId).length, 2, 'one more DELETE, from B');
    assert.deepEqual(
      (await inspect.dueDeletes(Date.now() + 60_000, 1_000)).filter((entry) => entry.sessionId === sessionId),
      [],
      'confirmed: off the queue',
    );
  });
});
