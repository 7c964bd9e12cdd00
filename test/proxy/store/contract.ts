// The contract every WidgetSessionStore keeps (see src/proxy/store/store.ts), as one suite that each
// implementation's test file runs: memory-store.test.ts, and the Redis store's. Real clocks and short
// TTLs (no fake timers), so it runs against a real Redis as it does in memory. Each test makes its own
// store and uses fresh keys, so a store that shares a server with other tests still passes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import {
  compareFeedIds,
  isFeedId,
  type EndedEvent,
  type QueuedDelete,
  type RegisteredSession,
  type WidgetSessionStore,
} from '../../../src/proxy/store/store.js';

export interface StoreContractOptions {
  /** The short TTL the expiry tests use. Default 300 ms. */
  ttlMs?: number;
}

/** A fresh id for a session, user or key, unique per run. */
function fresh(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}

function sessionOf(overrides: Partial<RegisteredSession> = {}): RegisteredSession {
  const now = Date.now();
  return {
    sessionId: fresh('sess'),
    userId: fresh('user'),
    createdAt: now,
    expiresAt: now + 60_000,
    lastSeenAt: now,
    pages: 0,
    ...overrides,
  };
}

function deleteOf(overrides: Partial<QueuedDelete> = {}): QueuedDelete {
  const now = Date.now();
  return {
    sessionId: fresh('sess'),
    userId: fresh('user'),
    reason: 'revoked',
    attempts: 1,
    dueAt: now,
    expiresAt: now + 60_000,
    ...overrides,
  };
}

/** A feed entry for `userId`, as `publish` takes it. */
function event(userId: string): Omit<EndedEvent, 'id'> {
  return { sessionId: fresh('sess'), userId, reason: 'revoked', at: Date.now() };
}

/** Runs the store contract against stores that `makeStore` makes (one per test, closed after it). */
export function describeStoreContract(
  name: string,
  makeStore: () => WidgetSessionStore | Promise<WidgetSessionStore>,
  options: StoreContractOptions = {},
): void {
  // The expiry tests wait ttl + 150 ms: time to let pass before they check that a record is gone,
  // not a wait for nothing to happen (a slow machine makes them wait longer, never pass wrongly).
  const ttl = options.ttlMs ?? 300;
  const opened: WidgetSessionStore[] = [];

  async function open(): Promise<WidgetSessionStore> {
    const store = await makeStore();
    opened.push(store);
    return store;
  }

  void describe(`${name}: the WidgetSessionStore contract`, () => {
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close().catch(() => undefined)));
    });

    void describe('registry', () => {
      void it('registers, lists (oldest first, by user or all) and counts live sessions', async () => {
        const store = await open();
        const userId = fresh('user');
        const now = Date.now();
        const older = sessionOf({ userId, createdAt: now - 2_000 });
        const newer = sessionOf({ userId, createdAt: now - 1_000 });
        const other = sessionOf();
        await store.register(newer);
        await store.register(older);
        await store.register(other);

        assert.deepEqual(await store.list({ userId }), [older, newer]);
        assert.equal(await store.count({ userId }), 2);
        assert.deepEqual(await store.list({ userId: other.userId }), [other]);
        const all = await store.list();
        for (const session of [older, newer, other])
          assert.deepEqual(
            all.find((s) => s.sessionId === session.sessionId),
            session,
          );
        assert.ok((await store.count()) >= 3, 'at least the three registered');
        assert.deepEqual(await store.list({ userId: fresh('nobody') }), []);
        assert.equal(await store.count({ userId: fresh('nobody') }), 0);
      });

      void it('replaces the record of a session registered again, also in the old user’s list', async () => {
        const store = await open();
        const first = sessionOf();
        const second = { ...first, userId: fresh('user'), pages: 3 };
        await store.register(first);
        await store.register(second);
        assert.deepEqual(await store.list({ userId: first.userId }), []);
        assert.deepEqual(await store.list({ userId: second.userId }), [second]);
      });

      void it('touch moves lastSeenAt and sets pages when given; unknown ids are ignored, not created', async () => {
        const store = await open();
        const session = sessionOf({ lastSeenAt: Date.now() - 10_000 });
        await store.register(session);
        const unknown = fresh('sess');
        const at = Date.now();
        await store.touch([session.sessionId, unknown], at, 2);
        let [record] = await store.list({ userId: session.userId });
        assert.equal(record?.lastSeenAt, at);
        assert.equal(record?.pages, 2);
        await store.touch([session.sessionId], at + 5);
        [record] = await store.list({ userId: session.userId });
        assert.equal(record?.lastSeenAt, at + 5);
        assert.equal(record?.pages, 2, 'touch without pages keeps the count');
        assert.equal(await store.unregister(unknown), undefined);
        assert.ok(!(await store.list()).some((s) => s.sessionId === unknown), 'an unknown session is not listed');
        await store.touch([], at);
      });

      void it('unregister returns the record once, then undefined', async () => {
        const store = await open();
        const session = sessionOf();
        await store.register(session);
        assert.deepEqual(await store.unregister(session.sessionId), session);
        assert.equal(await store.unregister(session.sessionId), undefined);
        assert.deepEqual(await store.list({ userId: session.userId }), []);
      });

      void it('20 concurrent unregisters of one session: exactly one gets the record', async () => {
        const store = await open();
        const session = sessionOf();
        await store.register(session);
        const results = await Promise.all(Array.from({ length: 20 }, () => store.unregister(session.sessionId)));
        const got = results.filter((result) => result !== undefined);
        assert.equal(got.length, 1);
        assert.deepEqual(got[0], session);
      });

      void it('unregisterAndPublish (when a store has it): of 20 racing callers one gets the record, and its end is published once', async (t) => {
        const store = await open();
        if (!store.unregisterAndPublish) return t.skip('this store has no unregisterAndPublish');
        const session = sessionOf();
        await store.register(session);
        const before = (await store.readFeed('0-0', 100_000)).at(-1)?.id ?? '0-0';
        const at = Date.now();
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.unregisterAndPublish!(session.sessionId, { reason: 'logout', at })),
        );
        const got = results.filter((result) => result !== undefined);
        assert.equal(got.length, 1);
        assert.deepEqual(got[0], session);
        assert.deepEqual(await store.list({ userId: session.userId }), []);
        const feed = (await store.readFeed(before, 100_000)).filter((e) => e.sessionId === session.sessionId);
        assert.deepEqual(
          feed.map(({ sessionId, userId, reason, at: time }) => ({ sessionId, userId, reason, at: time })),
          [{ sessionId: session.sessionId, userId: session.userId, reason: 'logout', at }],
        );
        assert.ok(isFeedId(feed[0].id), 'a feed id');
        // Nothing to take: nothing published.
        assert.equal(await store.unregisterAndPublish(fresh('sess'), { reason: 'logout', at }), undefined);
        assert.equal((await store.readFeed(feed[0].id, 100_000)).length, 0);
      });

      void it('unregisterAndPublish uses expiredReason for a record whose expiresAt is at or before its time', async (t) => {
        const store = await open();
        if (!store.unregisterAndPublish) return t.skip('this store has no unregisterAndPublish');
        const now = Date.now();
        const live = sessionOf({ expiresAt: now + 60_000 });
        const due = sessionOf({ expiresAt: now + 30_000 });
        await store.register(live);
        await store.register(due);
        const end = { reason: 'terminated', expiredReason: 'expired', at: now + 30_000 } as const;
        assert.deepEqual(await store.unregisterAndPublish(live.sessionId, end), live);
        assert.deepEqual(await store.unregisterAndPublish(due.sessionId, end), due);
        const reasons = (await store.readFeed('0-0', 100_000))
          .filter((e) => e.sessionId === live.sessionId || e.sessionId === due.sessionId)
          .map((e) => [e.sessionId, e.reason]);
        assert.deepEqual(reasons, [
          [live.sessionId, 'terminated'],
          [due.sessionId, 'expired'],
        ]);
      });

      void it('stale lists sessions not seen since a time, least recently seen first, at most limit', async () => {
        const store = await open();
        const userId = fresh('user');
        const now = Date.now();
        const a = sessionOf({ userId, lastSeenAt: now - 30_000 });
        const b = sessionOf({ userId, lastSeenAt: now - 20_000 });
        const c = sessionOf({ userId, lastSeenAt: now - 10_000 });
        const seen = sessionOf({ userId, lastSeenAt: now });
        for (const session of [c, seen, a, b]) await store.register(session);
        const mine = (list: RegisteredSession[]) => list.filter((s) => s.userId === userId).map((s) => s.sessionId);
        assert.deepEqual(mine(await store.stale(now - 5_000, 1000)), [a.sessionId, b.sessionId, c.sessionId]);
        assert.deepEqual(mine(await store.stale(now - 15_000, 1000)), [a.sessionId, b.sessionId]);
        const limited = await store.stale(now - 5_000, 2);
        assert.ok(limited.length <= 2, 'at most limit');
        await store.touch([a.sessionId], now);
        assert.deepEqual(mine(await store.stale(now - 5_000, 1000)), [b.sessionId, c.sessionId]);
      });

      void it('a session is gone at its expiresAt: not listed, counted, stale or unregistered', async () => {
        const store = await open();
        const now = Date.now();
        const session = sessionOf({ expiresAt: now + ttl, lastSeenAt: now - 60_000 });
        await store.register(session);
        assert.equal(await store.count({ userId: session.userId }), 1);
        await sleep(ttl + 150);
        assert.deepEqual(await store.list({ userId: session.userId }), []);
        assert.equal(await store.count({ userId: session.userId }), 0);
        assert.ok(
          !(await store.stale(Date.now(), 10_000)).some((s) => s.sessionId === session.sessionId),
          'an expired session is not stale',
        );
        assert.equal(await store.unregister(session.sessionId), undefined);
        await store.touch([session.sessionId], Date.now(), 1);
        assert.deepEqual(await store.list({ userId: session.userId }), [], 'touch does not bring it back');
      });
    });

    void describe('delete queue', () => {
      void it('enqueues, lists due deletes soonest first (at most limit), replaces and dequeues', async () => {
        const store = await open();
        const userId = fresh('user');
        const now = Date.now();
        const late = deleteOf({ userId, dueAt: now - 1_000 });
        const early = deleteOf({ userId, dueAt: now - 2_000 });
        const future = deleteOf({ userId, dueAt: now + 60_000 });
        for (const entry of [late, future, early]) await store.enqueueDelete(entry);
        const mine = (list: QueuedDelete[]) => list.filter((entry) => entry.userId === userId);
        assert.deepEqual(mine(await store.dueDeletes(now, 1000)), [early, late]);
        assert.ok((await store.dueDeletes(now, 1)).length <= 1, 'at most limit');
        assert.deepEqual(mine(await store.dueDeletes(now + 61_000, 1000)), [early, late, future]);

        const retried = { ...late, attempts: 2, dueAt: now + 30_000 };
        await store.enqueueDelete(retried);
        assert.deepEqual(mine(await store.dueDeletes(now, 1000)), [early]);
        assert.deepEqual(mine(await store.dueDeletes(now + 31_000, 1000)), [early, retried]);

        await store.dequeueDelete(early.sessionId);
        await store.dequeueDelete(fresh('sess'));
        assert.deepEqual(mine(await store.dueDeletes(now + 31_000, 1000)), [retried]);
      });

      void it('a queued delete is gone at its expiresAt', async () => {
        const store = await open();
        const entry = deleteOf({ expiresAt: Date.now() + ttl });
        await store.enqueueDelete(entry);
        assert.ok(
          (await store.dueDeletes(Date.now(), 1000)).some((e) => e.sessionId === entry.sessionId),
          'queued',
        );
        await sleep(ttl + 150);
        assert.ok(
          !(await store.dueDeletes(Date.now(), 1000)).some((e) => e.sessionId === entry.sessionId),
          'gone at its expiresAt',
        );
      });
    });

    void describe('leases', () => {
      void it('20 owners race for a lease: exactly one holds it; it renews; others wait until release', async () => {
        const store = await open();
        const key = fresh('delete');
        const owners = Array.from({ length: 20 }, (_, i) => `owner-${i}`);
        const results = await Promise.all(owners.map((owner) => store.lease(key, owner, 10_000)));
        assert.equal(results.filter(Boolean).length, 1);
        const holder = owners[results.indexOf(true)];
        const other = owners.find((owner) => owner !== holder)!;
        assert.equal(await store.lease(key, holder, 10_000), true, 'the holder renews');
        assert.equal(await store.lease(key, other, 10_000), false);
        await store.release(key, other);
        assert.equal(await store.lease(key, other, 10_000), false, 'only the holder releases');
        await store.release(key, holder);
        assert.equal(await store.lease(key, other, 10_000), true);
      });

      void it('a lease ends at its TTL', async () => {
        const store = await open();
        const key = fresh('delete');
        assert.equal(await store.lease(key, 'a', ttl), true);
        assert.equal(await store.lease(key, 'b', ttl), false);
        await sleep(ttl + 150);
        assert.equal(await store.lease(key, 'b', ttl), true);
        assert.equal(await store.lease(key, 'a', ttl), false);
      });
    });

    void describe('claims and counters', () => {
      void it('claimOnce: of 20 concurrent claims exactly one is true; again after its TTL', async () => {
        const store = await open();
        const key = fresh('jti');
        const results = await Promise.all(Array.from({ length: 20 }, () => store.claimOnce(key, ttl)));
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal(await store.claimOnce(key, ttl), false);
        assert.equal(await store.claimOnce(fresh('jti'), ttl), true, 'another key is its own');
        await sleep(ttl + 150);
        assert.equal(await store.claimOnce(key, ttl), true);
      });

      void it('hit counts in a fixed window (concurrent hits each get their own count) and resets after it', async () => {
        const store = await open();
        const key = fresh('creates');
        const before = Date.now();
        const counts = await Promise.all(Array.from({ length: 20 }, () => store.hit(key, ttl)));
        assert.deepEqual(
          counts.map((c) => c.count).sort((a, b) => a - b),
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        const resetAt = counts[0].resetAt;
        for (const count of counts) assert.equal(count.resetAt, resetAt, 'one window');
        assert.ok(resetAt >= before + ttl - 50 && resetAt <= Date.now() + ttl + 50, `resetAt ${resetAt}`);
        await sleep(ttl + 150);
        const next = await store.hit(key, ttl);
        assert.equal(next.count, 1);
        assert.ok(next.resetAt > resetAt, 'a new window');
      });
    });

    void describe('revocation feed', () => {
      void it('publish returns strictly increasing feed ids; readFeed returns what came after an id', async () => {
        const store = await open();
        const userId = fresh('user');
        const published = Array.from({ length: 5 }, () => event(userId));
        const ids: string[] = [];
        for (const entry of published) ids.push(await store.publish(entry));
        for (const id of ids) assert.ok(isFeedId(id), `feed id ${id}`);
        for (let i = 1; i < ids.length; i++)
          assert.ok(compareFeedIds(ids[i - 1], ids[i]) < 0, `${ids[i - 1]} < ${ids[i]}`);

        const after = await store.readFeed(ids[1], 100);
        assert.deepEqual(
          after,
          published.slice(2).map((entry, i) => ({ ...entry, id: ids[i + 2] })),
        );
        assert.deepEqual(
          (await store.readFeed(ids[1], 2)).map((e) => e.id),
          ids.slice(2, 4),
        );
        assert.deepEqual(await store.readFeed(ids[4], 100), []);
        const fromStart = (await store.readFeed('0-0', 100_000)).filter((e) => e.userId === userId);
        assert.deepEqual(
          fromStart.map((e) => e.id),
          ids,
        );
      });

      void it('publishes racing each other still get distinct, ordered ids', async () => {
        const store = await open();
        const userId = fresh('user');
        const ids = await Promise.all(Array.from({ length: 20 }, () => store.publish(event(userId))));
        assert.equal(new Set(ids).size, 20);
        const feed = (await store.readFeed('0-0', 100_000)).filter((e) => e.userId === userId).map((e) => e.id);
        assert.deepEqual(feed, [...ids].sort(compareFeedIds));
      });

      void it('follow delivers, in order, every entry published after it resolves, until its signal aborts', async () => {
        const store = await open();
        const userId = fresh('user');
        const seen: EndedEvent[] = [];
        const controller = new AbortController();
        await store.follow((entry) => {
          if (entry.userId === userId) seen.push(entry);
        }, controller.signal);
        // A second follower that stays: it marks the moment an entry has been delivered.
        const witnessed: string[] = [];
        await store.follow((entry) => witnessed.push(entry.id), new AbortController().signal);
        const published: EndedEvent[] = [];
        for (let i = 0; i < 5; i++) {
          const entry = event(userId);
          published.push({ ...entry, id: await store.publish(entry) });
        }
        await waitFor(() => seen.length >= 5);
        assert.deepEqual(seen, published);

        controller.abort();
        const afterAbort = await store.publish(event(userId));
        // Once the follower that stays has it, the aborted one would have had it too: both implementations
        // deliver an entry to every listener in one turn. (A store of a site's own that delivers to each
        // listener on its own time is not caught here, only not failed.)
        await waitFor(() => witnessed.includes(afterAbort));
        assert.equal(seen.length, 5, 'nothing after abort');
      });

      void it('a listener that throws does not keep entries from the others', async () => {
        const store = await open();
        const userId = fresh('user');
        const controller = new AbortController();
        const seen: string[] = [];
        await store.follow(() => {
          throw new Error('listener failed');
        }, controller.signal);
        await store.follow((entry) => {
          if (entry.userId === userId) seen.push(entry.id);
        }, controller.signal);
        const id = await store.publish(event(userId));
        await waitFor(() => seen.length === 1);
        assert.deepEqual(seen, [id]);
        controller.abort();
      });
    });

    void describe('health and close', () => {
      void it('health says ok while the store answers', async () => {
        const store = await open();
        const health = await store.health();
        assert.equal(health.ok, true, health.detail);
      });

      void it('close ends following, can be called twice, and the store then rejects or says it is not ok', async () => {
        const store = await open();
        const userId = fresh('user');
        const seen: string[] = [];
        await store.follow((entry) => seen.push(entry.userId), new AbortController().signal);
        await store.close();
        await store.close();
        const health = await store.health().catch(() => ({ ok: false }));
        assert.equal(health.ok, false);
        await assert.rejects(store.register(sessionOf({ userId })));
        await assert.rejects(store.publish(event(userId)));
        assert.ok(!seen.includes(userId), 'nothing delivered after close');
      });
    });
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}
