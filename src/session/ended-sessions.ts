/**
 * The session ids that have ended, so that none is ever mounted again: not
 * after a reload, not in another tab, not on a back/forward-cache restore.
 *
 * Kept in IndexedDB (through idb-keyval) and mirrored in memory; when
 * IndexedDB is missing or broken (some private modes, storage blocked) the
 * memory alone keeps the guarantee for the life of the page. Bounded in age
 * and count, because ended sessions also expire at the vendor.
 */
import { createStore, delMany, entries, get, set, type UseStore } from 'idb-keyval';
import type { EndReason } from '../shared/end-reasons.js';

export interface EndedRecord {
  endedAt: number;
  reason: EndReason;
}

export interface EndedSessionsOptions {
  /** Records older than this are forgotten. */
  maxAgeMs: number;
  /** At most this many records are kept; the oldest go first. */
  maxEntries: number;
}

const ENDED_DEFAULTS: EndedSessionsOptions = { maxAgeMs: 7 * 24 * 3600_000, maxEntries: 1000 };

function openEndedStore(): UseStore | null {
  try {
    return typeof indexedDB === 'undefined' ? null : createStore('konpro-widget-guard-ended', 'ended');
  } catch {
    return null;
  }
}

export class EndedSessions {
  readonly #memory = new Map<string, EndedRecord>();
  #store: UseStore | null;
  readonly #options: EndedSessionsOptions;
  readonly #now: () => number;
  #pruned = false;
  /** Called once when storage turns out to be unusable. */
  onStorageError: ((error: unknown) => void) | undefined;

  constructor(store: UseStore | null = openEndedStore(), options = ENDED_DEFAULTS, now: () => number = Date.now) {
    this.#store = store;
    this.#options = options;
    this.#now = now;
  }

  /** Known to have ended, from what this page has seen so far. Synchronous. */
  knows(sessionId: string): boolean {
    const record = this.#memory.get(sessionId);
    return record !== undefined && !this.#stale(record);
  }

  /** Ended, according to this page or to storage shared with every tab. */
  async has(sessionId: string): Promise<boolean> {
    if (this.knows(sessionId)) return true;
    const record = await this.#attempt(() => get<EndedRecord>(sessionId, this.#storeOrThrow()));
    if (!isEndedRecord(record) || this.#stale(record)) return false;
    this.#memory.set(sessionId, record);
    return true;
  }

  /**
   * Records an ended session: in memory at once (so the guarantee holds in
   * this same task), in storage asynchronously.
   */
  add(sessionId: string, reason: EndReason): Promise<void> {
    const record: EndedRecord = { endedAt: this.#now(), reason };
    this.remember(sessionId, record);
    return this.#attempt(async () => {
      await set(sessionId, record, this.#storeOrThrow());
      await this.#prune();
    });
  }

  /** Records in memory only: for news from another tab, which has persisted it already. */
  remember(sessionId: string, record: EndedRecord): void {
    this.#memory.set(sessionId, record);
    if (this.#memory.size > this.#options.maxEntries) {
      const oldest = this.#memory.keys().next().value;
      if (oldest !== undefined) this.#memory.delete(oldest);
    }
  }

  #stale(record: EndedRecord): boolean {
    return this.#now() - record.endedAt > this.#options.maxAgeMs;
  }

  #storeOrThrow(): UseStore {
    if (!this.#store) throw new Error('no IndexedDB');
    return this.#store;
  }

  /** Runs a storage operation; on failure falls back to memory for good. */
  async #attempt<T>(operation: () => Promise<T>): Promise<T | undefined> {
    if (!this.#store) return undefined;
    try {
      return await operation();
    } catch (error) {
      this.#store = null;
      this.onStorageError?.(error);
      return undefined;
    }
  }

  /** Once per page: forget stale records and keep the newest `maxEntries`. */
  async #prune(): Promise<void> {
    if (this.#pruned) return;
    this.#pruned = true;
    const store = this.#storeOrThrow();
    const all = await entries<string, EndedRecord>(store);
    const keep = all
      .filter(([, record]) => isEndedRecord(record) && !this.#stale(record))
      .sort(([, a], [, b]) => b.endedAt - a.endedAt)
      .slice(0, this.#options.maxEntries);
    const kept = new Set(keep.map(([key]) => key));
    const drop = all.map(([key]) => key).filter((key) => !kept.has(key));
    if (drop.length > 0) await delMany(drop, store);
  }
}

function isEndedRecord(value: unknown): value is EndedRecord {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as EndedRecord).endedAt === 'number' &&
    typeof (value as EndedRecord).reason === 'string'
  );
}

let shared: EndedSessions | undefined;

/** The page-wide instance every guard shares. */
export function endedSessions(): EndedSessions {
  shared ??= new EndedSessions();
  return shared;
}
