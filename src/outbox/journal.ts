/**
 * A synchronous journal of the deletes that are not yet safely in
 * IndexedDB, and of the requests out for them. IndexedDB writes are
 * asynchronous, and a page closed within milliseconds of a logout aborts
 * them; a localStorage write completes in the logout's own task, and every
 * tab of the origin reads it synchronously. The outbox writes here first,
 * removes the entry once IndexedDB has it, and absorbs whatever is left on
 * the next replay. Each request sent is marked here (`sentAt`) until it is
 * answered: a request can outlive its page (`keepalive`), and whoever sends
 * next, whatever its lock says, lets it finish first. One key per delete, so
 * tabs never overwrite each other's entries.
 */
import { isRecord } from '../shared/konpro-api.js';
import { isValidSessionId } from '../shared/session-id.js';

export interface JournalEntry {
  url: string;
  sessionId: string;
  createdAt: number;
  /** When a request for it went out; the mark stays until that request is answered. */
  sentAt?: number;
}

const JOURNAL_PREFIX = 'konpro-widget-guard:delete:';

function localStorageOrNull(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // Storage blocked (e.g. some privacy settings): the journal is off.
  }
}

export class OutboxJournal {
  constructor(
    readonly prefix: string = JOURNAL_PREFIX,
    private readonly storage: Storage | null = localStorageOrNull(),
  ) {}

  /** Journals a delete (keeping the mark of a request out for it). */
  add(entry: JournalEntry): void {
    const sentAt = entry.sentAt ?? this.read(entry.url)?.sentAt;
    this.#write(sentAt === undefined ? entry : { ...entry, sentAt });
  }

  /** A request for this delete went out at `at`: whoever sends next lets it finish first. */
  markSent(entry: Omit<JournalEntry, 'sentAt'>, at: number): void {
    const { url, sessionId, createdAt } = entry;
    this.#write({ url, sessionId, createdAt, sentAt: at });
  }

  /** When the request out for `url` was sent, if one is. */
  sentAt(url: string): number | undefined {
    return this.read(url)?.sentAt;
  }

  /** The request sent at `at` has its answer: the mark goes (unless a later request's replaced it). */
  answered(url: string, at: number): void {
    if (this.sentAt(url) === at) this.remove(url);
  }

  /**
   * IndexedDB has the delete as journaled with mark `sentAt` (or none): the entry goes, unless a
   * request was marked since (a closing tab's own send, say, while a replay wrote what it read).
   */
  written(url: string, sentAt?: number): void {
    if (this.sentAt(url) === sentAt) this.remove(url);
  }

  remove(url: string): void {
    try {
      this.storage?.removeItem(this.prefix + url);
    } catch {
      // Nothing to undo.
    }
  }

  read(url: string): JournalEntry | undefined {
    try {
      const entry = parseEntry(this.storage?.getItem(this.prefix + url) ?? null);
      return entry?.url === url ? entry : undefined;
    } catch {
      return undefined;
    }
  }

  #write(entry: JournalEntry): void {
    try {
      this.storage?.setItem(this.prefix + entry.url, JSON.stringify(entry));
    } catch {
      // Full or blocked: IndexedDB still gets the entry a moment later.
    }
  }

  entries(): JournalEntry[] {
    const found: JournalEntry[] = [];
    const storage = this.storage;
    if (!storage) return found;
    try {
      for (let i = 0; i < storage.length; i++) {
        const key = storage.key(i);
        if (!key?.startsWith(this.prefix)) continue;
        const entry = parseEntry(storage.getItem(key));
        if (entry && key === this.prefix + entry.url) found.push(entry);
      }
    } catch {
      // Unreadable storage: nothing to absorb.
    }
    return found;
  }
}

function parseEntry(text: string | null): JournalEntry | undefined {
  if (text === null) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (
      isRecord(value) &&
      typeof value.url === 'string' &&
      isValidSessionId(value.sessionId) &&
      typeof value.createdAt === 'number'
    ) {
      const entry: JournalEntry = { url: value.url, sessionId: value.sessionId, createdAt: value.createdAt };
      if (typeof value.sentAt === 'number') entry.sentAt = value.sentAt;
      return entry;
    }
  } catch {
    // Damaged: ignored.
  }
  return undefined;
}
