/**
 * `redisStore()`: the proxy's store in Redis, so any number of proxy
 * instances share one registry, one delete queue, one revocation feed, and
 * the same leases, claims and counters. Built on the official `redis` client
 * (an optional peer dependency: only a site that imports
 * `konpro-widget-guard/proxy/redis` needs it).
 *
 * - Multi-key updates are Lua scripts (see `redis-scripts.ts` for the key
 *   layout); every key has a TTL, so nothing outlives what it describes.
 * - The feed is a Redis Stream (trimmed with `MAXLEN ~`); its entry ids are
 *   the feed ids. `follow` reads it on one dedicated connection per store
 *   with `XREAD BLOCK` from the last id it delivered, so after a lost
 *   connection or a Redis restart it resumes where it was: nothing is lost,
 *   nothing comes twice (plain pub/sub would drop what was published while
 *   the connection was down).
 * - When Redis cannot answer, methods reject at once (no offline queue) and
 *   the client reconnects with backoff in the background; the proxy
 *   degrades rather than waiting on Redis.
 */
import { createClient } from 'redis';
import { scripts } from './redis-scripts.js';
import {
  isFeedId,
  type EndedEvent,
  type QueuedDelete,
  type RegisteredSession,
  type ServerEndReason,
  type SessionEnd,
  type StoreHealth,
  type WidgetSessionStore,
  type WindowCount,
} from './store.js';

export interface RedisStoreOptions {
  /** `redis[s]://[[username][:password]@][host][:port][/db-number]`. Never logged or reported. */
  url: string;
  /** Put before every key, so several sites (or test runs) can share one Redis. Default `kwg:`. */
  prefix?: string;
  /** How many feed entries are kept for resuming streams (approximately: `MAXLEN ~`). Default 10 000. */
  maxFeedEntries?: number;
  /** How long the feed outlives its last entry. Default 86 400 000 (a day). */
  feedTtlMs?: number;
  /** How long one command may take before it rejects (Redis hung, network lost). Default 2 000. */
  commandTimeoutMs?: number;
}

const NAME = 'konpro-widget-guard/proxy/redis';
/** How long one `XREAD` blocks before it is sent again; short enough to notice a dead connection. */
const BLOCK_MS = 5_000;
const FEED_BATCH = 100;
const REASONS: ReadonlySet<string> = new Set<ServerEndReason>([
  'revoked',
  'logout',
  'terminated',
  'expired',
  'orphaned',
]);

/**
 * A store in Redis, shared by every proxy instance that uses the same Redis and prefix.
 * Needs Redis 7 or later (a single server or a primary with replicas; not Redis Cluster).
 * The connection opens in the background; `close()` ends it.
 */
export function redisStore(options: RedisStoreOptions): WidgetSessionStore {
  return new RedisStore(options);
}

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`${NAME}: redisStore ${name} must be a positive whole number`);
  }
  return value;
}

/** A time or count from the caller, as Redis reads it; anything else is a clear error, not a Redis one. */
function num(value: number, name: string): string {
  if (!Number.isFinite(value)) throw new TypeError(`${NAME}: ${name} must be a finite number`);
  return String(value);
}

/** A TTL for `PX`/`PEXPIRE`: a whole number of milliseconds, at least 1. */
function ttl(value: number, name: string): string {
  num(value, name);
  return String(Math.max(1, Math.ceil(value)));
}

function maxCount(limit: number): number {
  return Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : 0;
}

function connectClient(url: string, commandTimeoutMs: number) {
  return createClient({
    url,
    scripts,
    // Raw replies (arrays) are the same shape on every client version and server.
    RESP: 2,
    // While Redis is away a command rejects at once: the proxy degrades instead of queueing requests.
    // No client command timeout (the client's default is 5 s): it costs an `AbortSignal.timeout` and its
    // listener per command and only covers the wait before the command is written, not the reply; the
    // store's own deadline (`withDeadline`) covers that. 0 turns it off.
    commandOptions: { timeout: 0 },
    disableOfflineQueue: true,
    socket: {
      connectTimeout: commandTimeoutMs,
      // Exponential backoff with jitter, capped at 1 s (a revocation right after Redis is back should not wait
      // long), and instances do not reconnect in lockstep.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000) + Math.floor(Math.random() * 100),
    },
  });
}

type Client = ReturnType<typeof connectClient>;

/** What a client error says, without the URL (which may carry a password). */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/rediss?:\/\/\S*/g, 'redis://…');
}

type Row = readonly (string | null)[];

function toSession(row: Row): RegisteredSession {
  return {
    sessionId: String(row[0]),
    userId: String(row[1]),
    createdAt: Number(row[2]),
    expiresAt: Number(row[3]),
    lastSeenAt: Number(row[4]),
    pages: Number(row[5]),
  };
}

function toQueued(row: Row): QueuedDelete {
  return {
    sessionId: String(row[0]),
    userId: String(row[1]),
    reason: String(row[2]) as ServerEndReason,
    attempts: Number(row[3]),
    dueAt: Number(row[4]),
    expiresAt: Number(row[5]),
  };
}

/** A stream entry `[id, [field, value, …]]` as a feed event; `undefined` for one this store did not write. */
function toEvent(entry: unknown): EndedEvent | undefined {
  if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) return undefined;
  const fields = new Map<string, string>();
  const values = entry[1] as unknown[];
  for (let i = 0; i + 1 < values.length; i += 2) fields.set(String(values[i]), String(values[i + 1]));
  const sessionId = fields.get('sessionId');
  const userId = fields.get('userId');
  const reason = fields.get('reason');
  const at = Number(fields.get('at'));
  if (sessionId === undefined || userId === undefined || !reason || !REASONS.has(reason) || !Number.isFinite(at)) {
    return undefined;
  }
  return { id: entry[0], sessionId, userId, reason: reason as ServerEndReason, at };
}

/**
 * The reply within `ms`, or a `TimeoutError` (Redis hung, a half-open connection): the proxy degrades
 * rather than waits. One plain timer per command, cleared with the reply.
 */
function withDeadline<T>(reply: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new Error(`${NAME}: Redis did not answer within ${ms} ms`);
      error.name = 'TimeoutError';
      reject(error);
    }, ms);
    reply.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

class RedisStore implements WidgetSessionStore {
  readonly #client: Client;
  readonly #prefix: string;
  readonly #maxFeed: string;
  readonly #feedTtl: string;
  readonly #timeoutMs: number;
  readonly #feedKey: string;
  /** Settles when the first connection attempt does (either way): a command right after start waits for it. */
  readonly #firstAttempt: Promise<void>;
  #lastError: string | undefined;
  #closed = false;
  readonly #listeners = new Set<(event: EndedEvent) => void>();
  /** The running follow loop, while anyone follows. */
  #follower: Follower | undefined;

  constructor(options: RedisStoreOptions) {
    if (typeof options?.url !== 'string' || options.url === '') {
      throw new TypeError(`${NAME}: redisStore needs a url (redis://host:port)`);
    }
    const prefix = options.prefix ?? 'kwg:';
    if (typeof prefix !== 'string') throw new TypeError(`${NAME}: redisStore prefix must be a string`);
    this.#prefix = prefix;
    this.#feedKey = `${prefix}feed`;
    this.#maxFeed = String(positive(options.maxFeedEntries, 'maxFeedEntries', 10_000));
    this.#feedTtl = String(positive(options.feedTtlMs, 'feedTtlMs', 86_400_000));
    this.#timeoutMs = positive(options.commandTimeoutMs, 'commandTimeoutMs', 2_000);
    this.#client = connectClient(options.url, this.#timeoutMs);
    this.#firstAttempt = new Promise<void>((resolve) => {
      this.#client.once('ready', resolve);
      this.#client.once('error', () => resolve());
    });
    // A client without an 'error' listener would crash the process on the first lost connection.
    this.#client.on('error', (error: unknown) => (this.#lastError = describe(error)));
    this.#client.on('ready', () => (this.#lastError = undefined));
    // connect() keeps retrying (reconnectStrategy) and only rejects when closed first.
    this.#client.connect().catch(() => undefined);
  }

  async register(session: RegisteredSession): Promise<void> {
    await this.#run('kwgRegister', [
      session.sessionId,
      session.userId,
      num(session.createdAt, 'createdAt'),
      num(session.expiresAt, 'expiresAt'),
      num(session.lastSeenAt, 'lastSeenAt'),
      num(session.pages, 'pages'),
      String(Math.ceil(session.expiresAt)),
    ]);
  }

  async touch(sessionIds: readonly string[], at: number, pages?: number): Promise<void> {
    const time = num(at, 'at');
    const count = pages === undefined ? '' : num(pages, 'pages');
    if (sessionIds.length === 0) return this.#ready();
    await this.#run('kwgTouch', [time, count, ...sessionIds]);
  }

  async list(filter: { userId?: string } = {}): Promise<RegisteredSession[]> {
    const rows = (await this.#run('kwgList', [filter.userId ?? ''])) as Row[];
    return rows.map(toSession);
  }

  async count(filter: { userId?: string } = {}): Promise<number> {
    return Number(await this.#run('kwgCount', [filter.userId ?? '']));
  }

  async unregister(sessionId: string): Promise<RegisteredSession | undefined> {
    const row = (await this.#run('kwgUnregister', [sessionId])) as Row | null;
    return row ? toSession(row) : undefined;
  }

  async unregisterAndPublish(sessionId: string, end: SessionEnd): Promise<RegisteredSession | undefined> {
    const row = (await this.#run('kwgUnregisterAndPublish', [
      this.#maxFeed,
      this.#feedTtl,
      sessionId,
      end.reason,
      end.expiredReason ?? end.reason,
      num(end.at, 'at'),
    ])) as Row | null;
    return row ? toSession(row) : undefined;
  }

  async stale(seenBefore: number, limit: number): Promise<RegisteredSession[]> {
    const before = num(seenBefore, 'seenBefore');
    const most = maxCount(limit);
    if (most === 0) return this.#ready().then(() => []);
    const rows = (await this.#run('kwgStale', [before, String(most)])) as Row[];
    return rows.map(toSession);
  }

  async enqueueDelete(entry: QueuedDelete): Promise<void> {
    await this.#run('kwgEnqueueDelete', [
      entry.sessionId,
      entry.userId,
      entry.reason,
      num(entry.attempts, 'attempts'),
      num(entry.dueAt, 'dueAt'),
      num(entry.expiresAt, 'expiresAt'),
      String(Math.ceil(entry.expiresAt)),
    ]);
  }

  async dueDeletes(now: number, limit: number): Promise<QueuedDelete[]> {
    const time = num(now, 'now');
    const most = maxCount(limit);
    if (most === 0) return this.#ready().then(() => []);
    const rows = (await this.#run('kwgDueDeletes', [time, String(most)])) as Row[];
    return rows.map(toQueued);
  }

  async dequeueDelete(sessionId: string): Promise<void> {
    await this.#run('kwgDequeueDelete', [sessionId]);
  }

  async lease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return Number(await this.#run('kwgLease', [key, owner, ttl(ttlMs, 'ttlMs')])) === 1;
  }

  async release(key: string, owner: string): Promise<void> {
    await this.#run('kwgRelease', [key, owner]);
  }

  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    const px = ttl(ttlMs, 'ttlMs');
    await this.#ready();
    const reply = await this.#deadline(
      this.#client.sendCommand(['SET', `${this.#prefix}claim:${key}`, '1', 'NX', 'PX', px]),
    );
    return reply !== null;
  }

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    // The window's end is the key's expiry on the Redis clock, so every instance reports the same one.
    const [count, resetAt] = (await this.#run('kwgHit', [key, ttl(windowMs, 'windowMs')])) as [number, number];
    return { count: Number(count), resetAt: Number(resetAt) };
  }

  async publish(event: Omit<EndedEvent, 'id'>): Promise<string> {
    const id = await this.#run('kwgPublish', [
      this.#maxFeed,
      this.#feedTtl,
      event.sessionId,
      event.userId,
      event.reason,
      num(event.at, 'at'),
    ]);
    return String(id);
  }

  async readFeed(afterId: string, limit: number): Promise<EndedEvent[]> {
    if (!isFeedId(afterId)) throw new TypeError(`${NAME}: readFeed needs a feed id ("<ms>-<seq>")`);
    const most = maxCount(limit);
    await this.#ready();
    if (most === 0) return [];
    const entries = await this.#deadline(
      this.#client.sendCommand<unknown[]>(['XRANGE', this.#feedKey, `(${afterId}`, '+', 'COUNT', String(most)]),
    );
    return entries.map(toEvent).filter((event) => event !== undefined);
  }

  async follow(listener: (event: EndedEvent) => void, signal: AbortSignal): Promise<void> {
    await this.#ready();
    if (signal.aborted) return;
    this.#listeners.add(listener);
    const stop = () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stopFollowing();
    };
    try {
      this.#follower ??= new Follower(this.#client, this.#feedKey, this.#timeoutMs, (event) => this.#deliver(event));
      await this.#follower.started;
    } catch (error) {
      stop();
      throw error;
    }
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  }

  async health(): Promise<StoreHealth> {
    if (this.#closed) return { ok: false, detail: 'the Redis store is closed' };
    try {
      await this.#ready();
      await this.#deadline(this.#client.ping());
    } catch (error) {
      return { ok: false, detail: `Redis does not answer: ${this.#lastError ?? describe(error)}` };
    }
    const feed = this.#follower?.problem;
    return feed ? { ok: false, detail: `the revocation feed connection is down: ${feed}` } : { ok: true };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#stopFollowing();
    // close() lets replies in flight arrive, for as long as one command may take; with Redis away there is
    // nothing to wait for.
    if (this.#client.isReady) await this.#deadline(this.#client.close()).catch(() => this.#client.destroy());
    else this.#client.destroy();
  }

  #deliver(event: EndedEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener({ ...event });
      } catch {
        // One failing listener must not keep the entry from the others.
      }
    }
  }

  #stopFollowing(): void {
    this.#follower?.stop();
    this.#follower = undefined;
  }

  /** Open, and past the first connection attempt; after that, commands reject at once while Redis is away. */
  async #ready(): Promise<void> {
    if (this.#closed) throw new Error(`${NAME}: the Redis store is closed`);
    await this.#firstAttempt;
  }

  async #run(name: keyof typeof scripts, args: readonly string[]): Promise<unknown> {
    await this.#ready();
    return this.#deadline(this.#client[name]([this.#prefix, ...args]));
  }

  #deadline<T>(reply: Promise<T>): Promise<T> {
    return withDeadline(reply, this.#timeoutMs);
  }
}

/**
 * The feed reader of one store: `XREAD BLOCK` on its own connection (a
 * blocking read would hold up every other command on a shared one), from
 * the last id it delivered. Errors (Redis restarted, network lost) are
 * retried with backoff from that same id.
 */
class Follower {
  /** Resolves once the position is known: every entry published after it is delivered. */
  readonly started: Promise<void>;
  #problem: string | undefined;
  readonly #stopped = new AbortController();
  #connection: Client | undefined;
  readonly #feedKey: string;
  readonly #timeoutMs: number;
  readonly #deliver: (event: EndedEvent) => void;

  constructor(client: Client, feedKey: string, timeoutMs: number, deliver: (event: EndedEvent) => void) {
    this.#feedKey = feedKey;
    this.#timeoutMs = timeoutMs;
    this.#deliver = deliver;
    this.started = this.#lastId(client).then((position) => {
      if (this.#stopped.signal.aborted) return;
      void this.#loop(client, position);
    });
    // A stop before the start is not an unhandled rejection; follow() awaits `started` itself.
    this.started.catch(() => undefined);
  }

  /** Why the feed connection is not reading now, if it is not. */
  get problem(): string | undefined {
    return this.#problem;
  }

  stop(): void {
    this.#stopped.abort();
    this.#connection?.destroy();
    this.#connection = undefined;
  }

  /** The id of the newest entry, or `0-0` for an empty feed (every later entry comes after it). */
  async #lastId(client: Client): Promise<string> {
    const newest = await withDeadline(
      client.sendCommand<unknown[]>(['XREVRANGE', this.#feedKey, '+', '-', 'COUNT', '1']),
      this.#timeoutMs,
    );
    const first = newest[0];
    return Array.isArray(first) && typeof first[0] === 'string' ? first[0] : '0-0';
  }

  async #loop(client: Client, start: string): Promise<void> {
    const signal = this.#stopped.signal;
    let position = start;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const connection = await this.#open(client);
        const reply = await withDeadline(
          connection.sendCommand<unknown[] | null>([
            'XREAD',
            'COUNT',
            String(FEED_BATCH),
            'BLOCK',
            String(BLOCK_MS),
            'STREAMS',
            this.#feedKey,
            position,
          ]),
          BLOCK_MS + this.#timeoutMs,
        );
        failures = 0;
        this.#problem = undefined;
        const stream = reply?.[0];
        const entries = Array.isArray(stream) && Array.isArray(stream[1]) ? (stream[1] as unknown[]) : [];
        for (const entry of entries) {
          if (signal.aborted) return;
          const id = Array.isArray(entry) && typeof entry[0] === 'string' ? entry[0] : undefined;
          if (id === undefined) continue;
          position = id;
          const event = toEvent(entry);
          if (event) this.#deliver(event);
        }
      } catch (error) {
        if (signal.aborted) return;
        this.#problem = describe(error);
        // A read that timed out may sit on a half-open socket: start over on a fresh connection.
        if (error instanceof Error && error.name === 'TimeoutError') {
          this.#connection?.destroy();
          this.#connection = undefined;
        }
        failures++;
        await sleep(Math.min(50 * 2 ** failures, 1_000), signal);
      }
    }
  }

  async #open(client: Client): Promise<Client> {
    if (this.#connection) return this.#connection;
    const connection = client.duplicate();
    connection.on('error', (error: unknown) => (this.#problem = describe(error)));
    // Back: the next read goes out now, and a read that blocks is not a problem.
    connection.on('ready', () => (this.#problem = undefined));
    this.#connection = connection;
    try {
      await connection.connect();
    } catch (error) {
      if (this.#connection === connection) this.#connection = undefined;
      connection.destroy();
      throw error;
    }
    if (this.#stopped.signal.aborted) connection.destroy();
    return connection;
  }
}
