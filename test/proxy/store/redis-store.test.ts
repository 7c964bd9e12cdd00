// redisStore against a real redis-server that this file starts (and kills, and
// restarts): what only a shared, networked store must get right — a TTL on
// every key, two instances seeing one registry and one feed, and a feed that
// survives a cut connection and a Redis restart without losing or repeating
// an entry.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { redisStore, type EndedEvent, type WidgetSessionStore } from '../../../src/proxy/redis.js';
import { redisServerForFile } from '../support/redis-server.js';
import { describeStoreContract } from './contract.js';

const redis = redisServerForFile();

let prefixes = 0;
/** A fresh prefix per test: the tests share one Redis and must not see each other's keys. */
const freshPrefix = () => `t${++prefixes}-${process.pid}:`;

describeStoreContract('redisStore', () => redisStore({ url: redis.url, prefix: freshPrefix() }));

const opened: WidgetSessionStore[] = [];
function store(prefix: string, options: { maxFeedEntries?: number } = {}): WidgetSessionStore {
  const created = redisStore({ url: redis.url, prefix, ...options });
  opened.push(created);
  return created;
}
void after(() => Promise.all(opened.map((s) => s.close())));

/** A plain client to look at what the store left in Redis. */
async function inspector() {
  const client = createClient({ url: redis.url, RESP: 2 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const client = await inspector();
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.sendCommand<[string, string[]]>([
        'SCAN',
        cursor,
        'MATCH',
        `${prefix}*`,
        'COUNT',
        '1000',
      ]);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys.sort();
  } finally {
    client.destroy();
  }
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function session(sessionId: string, userId: string, now: number, lifeMs = 60_000) {
  return { sessionId, userId, createdAt: now, expiresAt: now + lifeMs, lastSeenAt: now, pages: 0 };
}

function ended(sessionId: string, userId = 'u1'): Omit<EndedEvent, 'id'> {
  return { sessionId, userId, reason: 'revoked', at: Date.now() };
}

void describe('redisStore keys', () => {
  void it('gives every key it writes a TTL no longer than what the key describes', async () => {
    const prefix = freshPrefix();
    const s = store(prefix);
    const now = Date.now();
    await s.register(session('s1', 'alice', now, 60_000));
    await s.register(session('s2', 'bob', now + 1, 120_000));
    await s.touch(['s1'], now + 10, 2);
    await s.enqueueDelete({
      sessionId: 's3',
      userId: 'alice',
      reason: 'revoked',
      attempts: 1,
      dueAt: now,
      expiresAt: now + 30_000,
    });
    assert.equal(await s.lease('sweep', 'instance-a', 10_000), true);
    assert.equal(await s.claimOnce('jti-1', 20_000), true);
    assert.equal((await s.hit('create:alice', 5_000)).count, 1);
    await s.publish(ended('s1', 'alice'));

    const keys = await keysUnder(prefix);
    assert.deepEqual(
      keys,
      [
        'claim:jti-1',
        'delete:s3',
        'deletes',
        'expiry',
        'feed',
        'hit:create:alice',
        'lease:sweep',
        'seen',
        'session:s1',
        'session:s2',
        'sessions',
        'user:alice',
        'user:bob',
      ].map((key) => prefix + key),
    );
    // The longest each key may live, from now: what it describes, and not a moment longer.
    const most: Record<string, number> = {
      'claim:jti-1': 20_000,
      'delete:s3': 30_000,
      deletes: 30_000,
      expiry: 120_000,
      feed: 86_400_000,
      'hit:create:alice': 5_000,
      'lease:sweep': 10_000,
      seen: 120_000,
      'session:s1': 60_000,
      'session:s2': 120_000,
      sessions: 120_000,
      'user:alice': 60_000,
      'user:bob': 120_000,
    };
    const client = await inspector();
    try {
      for (const key of keys) {
        const pttl = await client.pTTL(key);
        const limit = most[key.slice(prefix.length)];
        assert.ok(pttl > 0, `${key} has no TTL (PTTL ${pttl})`);
        assert.ok(pttl <= limit + 5, `${key} lives ${pttl} ms, longer than the ${limit} ms it describes`);
        assert.ok(pttl > limit - 5_000, `${key} lives only ${pttl} ms of its ${limit} ms`);
      }
    } finally {
      client.destroy();
    }
  });

  void it('leaves nothing in Redis once every record has reached its end', async () => {
    const prefix = freshPrefix();
    const s = store(prefix);
    const now = Date.now();
    const life = 2_500;
    await s.register(session('s1', 'alice', now, life));
    await s.register(session('s2', 'alice', now, life - 100));
    await s.enqueueDelete({
      sessionId: 's1',
      userId: 'alice',
      reason: 'revoked',
      attempts: 0,
      dueAt: now,
      expiresAt: now + life,
    });
    // These three live their ttl from when Redis runs the call, not from `now`: each is given what is
    // left of `life`, and the wait below lasts until the last of them has ended however slow the calls
    // were (a loaded machine took a second over them, and a check at `now + life` came too early).
    let endsAt = now + life;
    const untilTheEnd = async (call: (ttlMs: number) => Promise<unknown>) => {
      const left = Math.max(200, now + life - Date.now());
      await call(left);
      endsAt = Math.max(endsAt, Date.now() + left); // (Redis ran it before its answer came back)
    };
    await untilTheEnd((ttl) => s.lease('sweep', 'a', ttl));
    await untilTheEnd((ttl) => s.claimOnce('jti', ttl));
    await untilTheEnd((ttl) => s.hit('k', ttl));
    const keys = await keysUnder(prefix);
    assert.equal(keys.length, 11, keys.join(' '));
    await new Promise((r) => setTimeout(r, endsAt + 200 - Date.now()));
    assert.deepEqual(await keysUnder(prefix), []);
    assert.deepEqual(await s.list(), []);
    assert.equal(await s.count({ userId: 'alice' }), 0);
  });

  void it('keeps stores with different prefixes apart on one Redis', async () => {
    const a = store(freshPrefix());
    const b = store(freshPrefix());
    await a.register(session('s1', 'alice', Date.now()));
    assert.equal(await a.count(), 1);
    assert.equal(await b.count(), 0);
    assert.equal(await b.unregister('s1'), undefined);
    assert.equal(await a.lease('sweep', 'x', 5_000), true);
    assert.equal(await b.lease('sweep', 'y', 5_000), true);
  });
});

void describe('redisStore shared by two instances', () => {
  void it('shows one registry, one queue and one set of leases to both', async () => {
    const prefix = freshPrefix();
    const a = store(prefix);
    const b = store(prefix);
    const now = Date.now();
    await a.register(session('s1', 'alice', now));
    await b.register(session('s2', 'alice', now + 1));
    assert.deepEqual(
      (await b.list({ userId: 'alice' })).map((s) => s.sessionId),
      ['s1', 's2'],
    );
    await b.touch(['s1'], now + 50, 3);
    assert.deepEqual((await a.list()).find((s) => s.sessionId === 's1')?.pages, 3);

    // Racing instances: exactly one gets the record.
    const taken = await Promise.all([a.unregister('s1'), b.unregister('s1'), a.unregister('s1'), b.unregister('s1')]);
    assert.equal(taken.filter((record) => record !== undefined).length, 1);
    assert.equal(await a.count({ userId: 'alice' }), 1);

    await a.enqueueDelete({
      sessionId: 's9',
      userId: 'bob',
      reason: 'orphaned',
      attempts: 2,
      dueAt: now,
      expiresAt: now + 60_000,
    });
    assert.deepEqual(
      (await b.dueDeletes(now, 10)).map((entry) => [entry.sessionId, entry.attempts]),
      [['s9', 2]],
    );
    await b.dequeueDelete('s9');
    assert.deepEqual(await a.dueDeletes(now, 10), []);

    const owners = await Promise.all([a.lease('sweep', 'a', 5_000), b.lease('sweep', 'b', 5_000)]);
    assert.equal(owners.filter(Boolean).length, 1);
    const holder = owners[0] ? 'a' : 'b';
    const other = holder === 'a' ? b : a;
    await other.release('sweep', holder === 'a' ? 'b' : 'a'); // not its lease: nothing happens
    assert.equal(await other.lease('sweep', holder === 'a' ? 'b' : 'a', 5_000), false);
    await (holder === 'a' ? a : b).release('sweep', holder);
    assert.equal(await other.lease('sweep', holder === 'a' ? 'b' : 'a', 5_000), true);

    const claims = await Promise.all([a.claimOnce('jti', 5_000), b.claimOnce('jti', 5_000)]);
    assert.deepEqual(claims.sort(), [false, true]);
    const hits = await Promise.all([a.hit('k', 5_000), b.hit('k', 5_000), a.hit('k', 5_000)]);
    assert.deepEqual(hits.map((h) => h.count).sort(), [1, 2, 3]);
  });

  void it("delivers each instance's feed entries to the other, in order, with the published ids", async () => {
    const prefix = freshPrefix();
    const a = store(prefix);
    const b = store(prefix);
    const seenByA: EndedEvent[] = [];
    const seenByB: EndedEvent[] = [];
    const stop = new AbortController();
    await a.follow((event) => seenByA.push(event), stop.signal);
    await b.follow((event) => seenByB.push(event), stop.signal);
    const ids = [await a.publish(ended('s1')), await b.publish(ended('s2')), await a.publish(ended('s3'))];
    await waitFor('both followers', () => seenByA.length === 3 && seenByB.length === 3);
    for (const seen of [seenByA, seenByB]) {
      assert.deepEqual(
        seen.map((event) => [event.id, event.sessionId]),
        [
          [ids[0], 's1'],
          [ids[1], 's2'],
          [ids[2], 's3'],
        ],
      );
    }
    assert.deepEqual(
      (await b.readFeed(ids[0], 10)).map((event) => event.sessionId),
      ['s2', 's3'],
    );
    stop.abort();
  });
});

/** The store's blocking feed connection, as Redis lists it. */
async function feedConnections(): Promise<string[]> {
  const client = await inspector();
  try {
    const list = await client.sendCommand<string>(['CLIENT', 'LIST']);
    return list
      .split('\n')
      .filter((line) => / cmd=xread\b/.test(line))
      .map((line) => /\bid=(\d+)/.exec(line)![1]);
  } finally {
    client.destroy();
  }
}

void describe('redisStore follow', () => {
  void it('resumes after its connection is cut and misses nothing published meanwhile', async () => {
    const prefix = freshPrefix();
    const publisher = store(prefix);
    const follower = store(prefix);
    const seen: EndedEvent[] = [];
    const stop = new AbortController();
    await follower.follow((event) => seen.push(event), stop.signal);
    const first = await publisher.publish(ended('before'));
    await waitFor('the first entry', () => seen.length === 1);

    await waitFor('the blocking read', async () => (await feedConnections()).length > 0);
    const client = await inspector();
    for (const id of await feedConnections()) await client.sendCommand(['CLIENT', 'KILL', 'ID', id]);
    client.destroy();
    // Published while the follower has no connection: plain pub/sub would drop these.
    const during = [];
    for (let i = 0; i < 5; i++) during.push(await publisher.publish(ended(`during-${i}`)));

    await waitFor('every entry', () => seen.length >= 6);
    // One more entry: once it is heard, the follower has read past the others (it reads the feed in
    // order), so a repeat of any of them would be here.
    const marker = await publisher.publish(ended('marker'));
    await waitFor('the marker', () => seen.some((event) => event.id === marker));
    assert.deepEqual(
      seen.map((event) => event.id),
      [first, ...during, marker],
    );
    stop.abort();
  });

  void it('loses nothing and repeats nothing across a kill -9 and restart of Redis', async () => {
    const prefix = freshPrefix();
    const publisher = store(prefix);
    const follower = store(prefix);
    const seen: EndedEvent[] = [];
    const stop = new AbortController();
    await follower.follow((event) => seen.push(event), stop.signal);
    const before = await publisher.publish(ended('before'));
    await waitFor('the entry before the crash', () => seen.length === 1);

    await redis.kill();
    const started = Date.now();
    await assert.rejects(publisher.publish(ended('while-down')));
    assert.ok(Date.now() - started < 1_500, 'a store whose Redis is down rejects at once');
    const down = await publisher.health();
    assert.equal(down.ok, false);
    assert.doesNotMatch(down.detail ?? '', /redis:\/\//);

    await redis.restart();
    await waitFor(
      'both stores to reconnect',
      async () => (await publisher.health()).ok && (await follower.health()).ok,
      10_000,
    );
    // Redis came back empty (no persistence): the scripts are loaded again, the feed starts over.
    await publisher.register(session('s1', 'alice', Date.now()));
    assert.equal(await follower.count(), 1);
    const afterIds = [await publisher.publish(ended('after-1')), await publisher.publish(ended('after-2'))];

    await waitFor('the entries after the restart', () => seen.length >= 3, 10_000);
    // One more entry: once it is heard, the follower has read past the others (it reads the feed in
    // order), so a repeat of any of them would be here.
    const marker = await publisher.publish(ended('marker'));
    await waitFor('the marker', () => seen.some((event) => event.id === marker));
    assert.deepEqual(
      seen.map((event) => [event.id, event.sessionId]),
      [
        [before, 'before'],
        [afterIds[0], 'after-1'],
        [afterIds[1], 'after-2'],
        [marker, 'marker'],
      ],
    );
    stop.abort();
  });

  void it('stops reading when the last follower stops, and close() ends its connections', async () => {
    const prefix = freshPrefix();
    const s = redisStore({ url: redis.url, prefix });
    const stop = new AbortController();
    const other = new AbortController();
    const seen: EndedEvent[] = [];
    const seenByOther: EndedEvent[] = [];
    const before = (await feedConnections()).length;
    await s.follow((event) => seen.push(event), stop.signal);
    await s.follow((event) => seenByOther.push(event), other.signal);
    await waitFor('one blocking read for both followers', async () => (await feedConnections()).length === before + 1);
    stop.abort();
    const afterStop = await s.publish(ended('after-stop'));
    // The follower still following shares the read and hears each entry in the same turn as the other
    // would: once it has this one, the stopped one would have too.
    await waitFor('the other follower to hear it', () => seenByOther.some((event) => event.id === afterStop));
    assert.equal(seen.length, 0, 'a stopped follower hears nothing');
    other.abort();
    await waitFor('the blocking read to end', async () => (await feedConnections()).length === before);
    await s.follow(() => undefined, new AbortController().signal);
    await waitFor('a new blocking read', async () => (await feedConnections()).length === before + 1);
    await s.close();
    await waitFor('close() to end it', async () => (await feedConnections()).length === before);
    await assert.rejects(s.count(), /closed/);
    assert.deepEqual(await s.health(), { ok: false, detail: 'the Redis store is closed' });
  });
});

void describe('redisStore without Redis', () => {
  void it('rejects every method at once and says why in health(), without the URL or its password', async () => {
    // A port nothing listens on: the restarted server's port, with the server killed.
    await redis.kill();
    try {
      const s = redisStore({ url: `redis://:hunter2-pass@127.0.0.1:${redis.port}`, prefix: freshPrefix() });
      const now = Date.now();
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['register', () => s.register(session('s1', 'alice', now))],
        ['touch', () => s.touch(['s1'], now)],
        ['list', () => s.list()],
        ['count', () => s.count({ userId: 'alice' })],
        ['unregister', () => s.unregister('s1')],
        ['stale', () => s.stale(now, 10)],
        [
          'enqueueDelete',
          () =>
            s.enqueueDelete({
              sessionId: 's1',
              userId: 'a',
              reason: 'revoked',
              attempts: 0,
              dueAt: now,
              expiresAt: now + 1_000,
            }),
        ],
        ['dueDeletes', () => s.dueDeletes(now, 10)],
        ['dequeueDelete', () => s.dequeueDelete('s1')],
        ['lease', () => s.lease('k', 'o', 1_000)],
        ['release', () => s.release('k', 'o')],
        ['claimOnce', () => s.claimOnce('k', 1_000)],
        ['hit', () => s.hit('k', 1_000)],
        ['publish', () => s.publish(ended('s1'))],
        ['readFeed', () => s.readFeed('0-0', 10)],
        ['follow', () => s.follow(() => undefined, new AbortController().signal)],
      ];
      for (const [name, call] of calls) {
        const started = Date.now();
        await assert.rejects(call(), `${name} rejects`);
        assert.ok(Date.now() - started < 2_500, `${name} rejects at once (took ${Date.now() - started} ms)`);
      }
      const health = await s.health();
      assert.equal(health.ok, false);
      assert.match(health.detail ?? '', /ECONNREFUSED|offline|closed/i);
      assert.doesNotMatch(health.detail ?? '', /hunter2|redis:\/\//);
      const closing = Date.now();
      await s.close();
      assert.ok(Date.now() - closing < 500, 'close() does not wait for an absent Redis');
    } finally {
      await redis.restart();
    }
  });
});

/** A TCP relay to the test Redis that can stop passing anything on: a Redis that hangs, a half-open link. */
async function freezableRelay(port: number) {
  let frozen = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (chunk) => frozen || upstream.write(chunk));
    upstream.on('data', (chunk) => frozen || client.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    url: `redis://127.0.0.1:${address.port}`,
    freeze: () => (frozen = true),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

void describe('redisStore with a Redis that stops answering', () => {
  void it('rejects a command whose reply does not come within commandTimeoutMs, and says so in health()', async () => {
    const relay = await freezableRelay(redis.port);
    const s = redisStore({ url: relay.url, prefix: freshPrefix(), commandTimeoutMs: 300 });
    try {
      assert.equal((await s.hit('k', 5_000)).count, 1);
      relay.freeze();
      await assert.rejects(s.hit('k', 5_000), { name: 'TimeoutError', message: /did not answer within 300 ms/ });
      await assert.rejects(s.register(session('s1', 'alice', Date.now())), { name: 'TimeoutError' });
      await assert.rejects(s.claimOnce('jti', 5_000), { name: 'TimeoutError' });
      assert.equal((await s.health()).ok, false);
      const closing = Date.now();
      await s.close();
      assert.ok(Date.now() - closing < 2_000, 'close() does not wait for a Redis that hangs');
    } finally {
      await s.close();
      await relay.close();
    }
  });
});

void describe('redisStore input and packaging', () => {
  void it('refuses bad input with a clear error instead of a Redis one', async () => {
    assert.throws(() => redisStore({ url: '' }), /needs a url/);
    assert.throws(
      () => redisStore({ url: redis.url, maxFeedEntries: 0 }),
      /maxFeedEntries must be a positive whole number/,
    );
    const s = store(freshPrefix());
    await assert.rejects(s.readFeed('1-2-3', 10), /feed id/);
    await assert.rejects(
      s.register({ ...session('s1', 'a', Date.now()), expiresAt: Number.NaN }),
      /expiresAt must be a finite number/,
    );
    assert.deepEqual(await s.stale(Date.now(), 0), []);
    assert.deepEqual(await s.dueDeletes(Date.now(), 0), []);
  });

  void it('is not imported by the main proxy entry (a site without Redis installs nothing)', async () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/proxy');
    const seen = new Set<string>();
    const specifiers = new Set<string>();
    const visit = async (file: string): Promise<void> => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = await readFile(file, 'utf8');
      for (const [, specifier] of source.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        if (specifier.startsWith('.')) await visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
        else specifiers.add(specifier);
      }
    };
    await visit(resolve(root, 'index.ts'));
    assert.ok(seen.size > 3, 'the walk found the proxy modules');
    assert.deepEqual(
      [...specifiers].filter((specifier) => /^(redis|@redis\/)/.test(specifier)),
      [],
    );
    assert.ok(
      ![...seen].some((file) => file.endsWith('redis-store.ts')),
      'the main entry does not reach redis-store.ts',
    );
  });
});
