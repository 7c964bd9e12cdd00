/**
 * The session ids that have ended, so that none is ever mounted again: not
 * after a reload, not in another tab, not on a back/forward-cache restore.
 *
 * Kept in IndexedDB and mirrored in memory (platform/mirrored-store.ts);
 * when IndexedDB is missing or broken the memory alone keeps the guarantee
 * for the life of the page. Bounded in age and count, because ended
 * sessions also expire at the vendor.
 */
import { delMany, get, set, type UseStore } from 'idb-keyval';
import { allEntries, MirroredStore, openStore } from '../platform/mirrored-store.js';
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

export class EndedSessions {
  readonly #db: MirroredStore<EndedRecord>;
  readonly #memory: Map<string, EndedRecord>;
  readonly #options: EndedSessionsOptions;
  readonly #now: () => number;
  #pruned = false;
  /** Called once when storage turns out to be unusable. */
  onStorageError: ((error: unknown) => void) | undefined;

  constructor(
    store: UseStore | null = openStore('konpro-widget-guard-ended', 'ended'),
    options = ENDED_DEFAULTS,
    now: () => number = Date.now,
  ) {
    this.#db = new MirroredStore(store, (error) => this.onStorageError?.(error));
    this.#memory = this.#db.memory;
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
    const record = await this.#db.run(
      (store) => get<EndedRecord>(sessionId, store),
      () => undefined,
    );
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
    return this.#db.run(
      async (store) => {
        await set(sessionId, record, store);
        await this.#prune(store);
      },
      () => undefined,
    );
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

  /** Once per page: forget stale records and keep the newest `maxEntries`. */
  async #prune(store: UseStore): Promise<void> {
    if (this.#pruned) return;
    this.#pruned = true;
    const all = await allEntries<EndedRecord>(store);
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
