/**
 * Where the outbox keeps its deletes: one record per delete, keyed by its
 * URL, in IndexedDB shared by every tab of the origin (with this page's
 * in-memory mirror, which takes over if IndexedDB fails). A confirmed delete
 * stays a while as a tombstone, so a late logout of the same session in
 * another tab does not send it again.
 */
import { del, get, set, update, type UseStore } from 'idb-keyval';
import { allEntries, MirroredStore, openStore } from '../platform/mirrored-store.js';
import type { DeleteOutcomeKind } from '../shared/end-reasons.js';

export interface OutboxEntry {
  /** `DELETE` URL, absolute; also the entry's key. */
  url: string;
  sessionId: string;
  createdAt: number;
  /** Attempts made so far, by any tab. */
  attempts: number;
  /** Wall-clock time of the next attempt, by backoff (a replay may go earlier). */
  nextAttemptAt: number;
  /**
   * No attempt before this, replay or not: the server's `Retry-After`, or an
   * attempt still in flight (perhaps from a tab that has since closed).
   */
  notBefore?: number;
  /** Set when the proxy refused it (400/401/403): retried on the next load only. */
  failed?: { status: number; at: number };
  /** Set once confirmed: the entry is then only a tombstone. */
  settled?: { outcome: DeleteOutcomeKind; status?: number; at: number };
}

export const openOutboxStore = (): UseStore | null => openStore('konpro-widget-guard-outbox', 'deletes');

/** The outbox's records: IndexedDB with this page's mirror (see MirroredStore). */
export class OutboxStore extends MirroredStore<OutboxEntry> {
  async read(key: string): Promise<OutboxEntry | undefined> {
    const { memory } = this;
    return this.run(
      async (store) => {
        const entry = await get<OutboxEntry>(key, store);
        if (entry) memory.set(key, entry);
        return entry;
      },
      () => memory.get(key),
    );
  }

  /** Read-modify-write in one transaction, so concurrent tabs lose nothing. */
  async write(key: string, change: (existing: OutboxEntry | undefined) => OutboxEntry): Promise<OutboxEntry> {
    const { memory } = this;
    let written: OutboxEntry | undefined;
    await this.run(
      (store) =>
        update<OutboxEntry>(
          key,
          (existing) => {
            written = change(existing);
            return written;
          },
          store,
        ).then(() => void memory.set(key, written!)),
      () => {
        written = change(memory.get(key));
        memory.set(key, written);
      },
    );
    return written!;
  }

  async put(entry: OutboxEntry): Promise<void> {
    // Mirrored in memory, so a store that fails later still has what this page wrote.
    this.memory.set(entry.url, entry);
    await this.run(
      (store) => set(entry.url, entry, store),
      () => undefined,
    );
  }

  async remove(key: string): Promise<void> {
    this.memory.delete(key);
    await this.run(
      (store) => del(key, store),
      () => undefined,
    );
  }

  all(): Promise<Array<[string, OutboxEntry]>> {
    return this.run(
      (store) => allEntries<OutboxEntry>(store),
      () => [...this.memory.entries()],
    );
  }
}
