/**
 * The default store: everything in this process's memory. Right for one
 * proxy process (nothing to install); with several instances behind a load
 * balancer each would have its own registry and feed, so use a shared store
 * (`redisStore`) there.
 *
 * Expired records are invisible at once (every read checks the time) and
 * their memory is reclaimed by one unref'd sweep timer, which `close()` stops.
 */
/* eslint-disable @typescript-eslint/require-await -- async so that every failure (a closed store) is a
   rejection, as the interface promises, even where nothing here waits. */
import {
  compareFeedIds,
  type EndedEvent,
  type QueuedDelete,
  type RegisteredSession,
  type SessionEnd,
  type StoreHealth,
  type WidgetSessionStore,
  type WindowCount,
} from './store.js';

export interface MemoryStoreOptions {
  /** How many feed entries are kept for resuming streams; older ones fall off. Default 10 000. */
  maxFeedEntries?: number;
  /** How often expired records are dropped from memory. Default 5 000 ms. */
  sweepIntervalMs?: number;
}

interface Expiring {
  expiresAt: number;
}

/** A store in this process's memory: the default of `createWidgetSessionProxy`. */
export function memoryStore(options: MemoryStoreOptions = {}): WidgetSessionStore {
  return new MemoryStore(options);
}

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`konpro-widget-guard/proxy: memoryStore ${name} must be a positive whole number`);
  }
  return value;
}

class MemoryStore implements WidgetSessionStore {
  readonly #sessions = new Map<string, RegisteredSession>();
  /** userId → its session ids, so one user's sessions are found without a scan. */
  readonly #byUser = new Map<string, Set<string>>();
  readonly #queue = new Map<string, QueuedDelete>();
  readonly #leases = new Map<string, { owner: string } & Expiring>();
  readonly #claims = new Map<string, number>();
  readonly #counters = new Map<string, WindowCount>();
  /** Oldest first; ids strictly increasing. */
  readonly #feed: EndedEvent[] = [];
  readonly #listeners = new Set<(event: EndedEvent) => void>();
  readonly #maxFeed: number;
  readonly #timer: ReturnType<typeof setInterval>;
  #lastMs = 0;
  #seq = 0;
  #closed = false;

  constructor(options: MemoryStoreOptions) {
    this.#maxFeed = positive(options.maxFeedEntries, 'maxFeedEntries', 10_000);
    const interval = positive(options.sweepIntervalMs, 'sweepIntervalMs', 5_000);
    this.#timer = setInterval(() => this.#dropExpired(Date.now()), interval);
    // The store never keeps a process alive on its own.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  async register(session: RegisteredSession): Promise<void> {
    this.#open();
    this.#remove(session.sessionId);
    if (session.expiresAt <= Date.now()) return;
    this.#sessions.set(session.sessionId, { ...session });
    let ids = this.#byUser.get(session.userId);
    if (!ids) this.#byUser.set(session.userId, (ids = new Set()));
    ids.add(session.sessionId);
  }

  async touch(sessionIds: readonly string[], at: number, pages?: number): Promise<void> {
    this.#open();
    for (const sessionId of sessionIds) {
      const session = this.#live(sessionId);
      if (!session) continue;
      // Reports may arrive out of order from several instances: last seen only moves forward.
      session.lastSeenAt = Math.max(session.lastSeenAt, at);
      if (pages !== undefined) session.pages = pages;
    }
  }

  async list(filter: { userId?: string } = {}): Promise<RegisteredSession[]> {
    this.#open();
    return this.#select(filter.userId)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((session) => ({ ...session }));
  }

  async count(filter: { userId?: string } = {}): Promise<number> {
    this.#open();
    return this.#select(filter.userId).length;
  }

  async unregister(sessionId: string): Promise<RegisteredSession | undefined> {
    this.#open();
    const session = this.#live(sessionId);
    this.#remove(sessionId);
    return session && { ...session };
  }

  async unregisterAndPublish(sessionId: string, end: SessionEnd): Promise<RegisteredSession | undefined> {
    const session = await this.unregister(sessionId);
    if (!session) return undefined;
    const { userId, expiresAt } = session;
    const reason = end.expiredReason !== undefined && expiresAt <= end.at ? end.expiredReason : end.reason;
    await this.publish({ sessionId, userId, reason, at: end.at });
    return session;
  }

  async stale(seenBefore: number, limit: number): Promise<RegisteredSession[]> {
    this.#open();
    return this.#select(undefined)
      .filter((session) => session.lastSeenAt < seenBefore)
      .sort((a, b) => a.lastSeenAt - b.lastSeenAt)
      .slice(0, Math.max(0, limit))
      .map((session) => ({ ...session }));
  }

  async enqueueDelete(entry: QueuedDelete): Promise<void> {
    this.#open();
    if (entry.expiresAt <= Date.now()) this.#queue.delete(entry.sessionId);
    else this.#queue.set(entry.sessionId, { ...entry });
  }

  async dueDeletes(now: number, limit: number): Promise<QueuedDelete[]> {
    this.#open();
    const wallClock = Date.now();
    const due: QueuedDelete[] = [];
    for (const entry of this.#queue.values()) {
      if (entry.expiresAt <= wallClock) continue;
      if (entry.dueAt <= now) due.push({ ...entry });
    }
    return due.sort((a, b) => a.dueAt - b.dueAt).slice(0, Math.max(0, limit));
  }

  async dequeueDelete(sessionId: string): Promise<void> {
    this.#open();
    this.#queue.delete(sessionId);
  }

  async lease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    this.#open();
    const now = Date.now();
    const held = this.#leases.get(key);
    if (held && held.expiresAt > now && held.owner !== owner) return false;
    this.#leases.set(key, { owner, expiresAt: now + ttlMs });
    return true;
  }

  async release(key: string, owner: string): Promise<void> {
    this.#open();
    if (this.#leases.get(key)?.owner === owner) this.#leases.delete(key);
  }

  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    this.#open();
    const now = Date.now();
    const until = this.#claims.get(key);
    if (until !== undefined && until > now) return false;
    this.#claims.set(key, now + ttlMs);
    return true;
  }

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    this.#open();
    const now = Date.now();
    let window = this.#counters.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.#counters.set(key, window);
    }
    window.count++;
    return { ...window };
  }

  async publish(event: Omit<EndedEvent, 'id'>): Promise<string> {
    this.#open();
    const entry: EndedEvent = { ...event, id: this.#nextId() };
    this.#feed.push(entry);
    if (this.#feed.length > this.#maxFeed) this.#feed.splice(0, this.#feed.length - this.#maxFeed);
    for (const listener of this.#listeners) {
      try {
        listener({ ...entry });
      } catch {
        // One failing listener must not keep the entry from the others, or fail the publisher.
      }
    }
    return entry.id;
  }

  async readFeed(afterId: string, limit: number): Promise<EndedEvent[]> {
    this.#open();
    // Binary search for the first entry after `afterId`: ids are strictly increasing.
    let low = 0;
    let high = this.#feed.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareFeedIds(this.#feed[middle].id, afterId) <= 0) low = middle + 1;
      else high = middle;
    }
    return this.#feed.slice(low, low + Math.max(0, limit)).map((entry) => ({ ...entry }));
  }

  async follow(listener: (event: EndedEvent) => void, signal: AbortSignal): Promise<void> {
    this.#open();
    if (signal.aborted) return;
    this.#listeners.add(listener);
    signal.addEventListener('abort', () => this.#listeners.delete(listener), { once: true });
  }

  async health(): Promise<StoreHealth> {
    return this.#closed ? { ok: false, detail: 'the memory store is closed' } : { ok: true };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#listeners.clear();
  }

  #open(): void {
    if (this.#closed) throw new Error('konpro-widget-guard/proxy: the memory store is closed');
  }

  #nextId(): string {
    const now = Date.now();
    // A clock that steps back must not reorder the feed: ids stay increasing.
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#seq = 0;
    } else {
      this.#seq++;
    }
    return `${this.#lastMs}-${this.#seq}`;
  }

  #live(sessionId: string): RegisteredSession | undefined {
    const session = this.#sessions.get(sessionId);
    if (session && session.expiresAt <= Date.now()) {
      this.#remove(sessionId);
      return undefined;
    }
    return session;
  }

  #select(userId: string | undefined): RegisteredSession[] {
    const ids = userId === undefined ? this.#sessions.keys() : (this.#byUser.get(userId) ?? new Set<string>()).values();
    const selected: RegisteredSession[] = [];
    for (const id of [...ids]) {
      const session = this.#live(id);
      if (session) selected.push(session);
    }
    return selected;
  }

  #remove(sessionId: string): void {
    const session = this.#sessions.get(sessionId);
    if (!session) return;
    this.#sessions.delete(sessionId);
    const ids = this.#byUser.get(session.userId);
    ids?.delete(sessionId);
    if (ids?.size === 0) this.#byUser.delete(session.userId);
  }

  #dropExpired(now: number): void {
    for (const [id, session] of this.#sessions) if (session.expiresAt <= now) this.#remove(id);
    for (const [id, entry] of this.#queue) if (entry.expiresAt <= now) this.#queue.delete(id);
    for (const [key, lease] of this.#leases) if (lease.expiresAt <= now) this.#leases.delete(key);
    for (const [key, until] of this.#claims) if (until <= now) this.#claims.delete(key);
    for (const [key, window] of this.#counters) if (window.resetAt <= now) this.#counters.delete(key);
  }
}
