/**
 * A synchronous journal of the deletes that are not yet safely in
 * IndexedDB. IndexedDB writes are asynchronous, and a page closed within
 * milliseconds of a logout aborts them; a localStorage write completes in
 * the logout's own task. The outbox writes here first, removes the entry
 * once IndexedDB has it, and absorbs whatever is left on the next replay.
 * One key per delete, so tabs never overwrite each other's entries.
 */
import { isRecord } from '../shared/konpro-api.js';
import { isValidSessionId } from '../shared/session-id.js';

export interface JournalEntry {
  url: string;
  sessionId: string;
  createdAt: number;
  /** When a closing page sent it without waiting for the answer. */
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

  add(entry: JournalEntry): void {
    try {
      this.storage?.setItem(this.prefix + entry.url, JSON.stringify(entry));
    } catch {
      // Full or blocked: IndexedDB still gets the entry a moment later.
    }
  }

  /** The page is closing and sends this delete now: the next page lets that request finish first. */
  markSent(url: string, at: number): void {
    const entry = this.entries().find((e) => e.url === url);
    if (entry) this.add({ ...entry, sentAt: at });
  }

  remove(url: string): void {
    try {
      this.storage?.removeItem(this.prefix + url);
    } catch {
      // Nothing to undo.
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
