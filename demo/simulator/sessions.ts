/**
 * The simulator's widget sessions: who owns each one, when it expires and
 * whether it was deleted. Expiry is computed from the injected clock on every
 * read rather than by timers, so a test can move time forward and a session
 * is never "active" one millisecond past its `expires_at`.
 */
import { isSessionId, type VendorSession } from './schema.js';
import { randomToken } from './http.js';

/** Why a session no longer works: deleted through the API, or past `expires_at`. */
export type EndReason = 'deleted' | 'expired';

export interface SessionRecord {
  readonly id: string;
  /** The account of the API key that created it; only that account may read or delete it. */
  readonly accountId: string;
  readonly agenticAvatarId: string;
  /** `settings` as created, `max_duration` included. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** When it was deleted, `null` while it was not. */
  deletedAt: number | null;
}

export interface NewSession {
  accountId: string;
  agenticAvatarId: string;
  maxDurationSeconds: number;
  settings?: Record<string, unknown>;
  /** A fixed id (tests replay documentation examples with their ids); generated when absent. */
  id?: string;
}

export interface SessionStoreOptions {
  /** How long an ended session keeps answering `terminated` before it is forgotten (then: 404). */
  retainEndedMs?: number;
  /** Past this many sessions the oldest ended ones are forgotten first. */
  maxSessions?: number;
}

export class SessionStore {
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #retainEndedMs: number;
  readonly #maxSessions: number;

  constructor(
    readonly now: () => number = Date.now,
    options: SessionStoreOptions = {},
  ) {
    this.#retainEndedMs = options.retainEndedMs ?? 24 * 60 * 60 * 1000;
    this.#maxSessions = options.maxSessions ?? 10_000;
  }

  create(input: NewSession): SessionRecord {
    if (input.id !== undefined && (!isSessionId(input.id) || this.#sessions.has(input.id))) {
      throw new Error(`SessionStore: cannot create a session with id ${JSON.stringify(input.id)}`);
    }
    this.#prune();
    const createdAt = this.now();
    const record: SessionRecord = {
      id: input.id ?? this.#newId(),
      accountId: input.accountId,
      agenticAvatarId: input.agenticAvatarId,
      settings: { ...input.settings, max_duration: input.maxDurationSeconds },
      createdAt,
      expiresAt: createdAt + input.maxDurationSeconds * 1000,
      deletedAt: null,
    };
    this.#sessions.set(record.id, record);
    return record;
  }

  get(id: string): SessionRecord | undefined {
    return this.#sessions.get(id);
  }

  /** `null` while the session works. A deletion wins over a later expiry: it is what happened first. */
  endReason(record: SessionRecord): EndReason | null {
    if (record.deletedAt !== null) return 'deleted';
    return this.now() >= record.expiresAt ? 'expired' : null;
  }

  /** Ends an active session for good. Returns `false` when it had already ended. */
  delete(record: SessionRecord): boolean {
    if (this.endReason(record) !== null) return false;
    record.deletedAt = this.now();
    return true;
  }

  /** Newest first. */
  list(): SessionRecord[] {
    return [...this.#sessions.values()].sort((a, b) => b.createdAt - a.createdAt);
  }

  clear(): void {
    this.#sessions.clear();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** When an ended session ended. */
  endedAt(record: SessionRecord): number | null {
    if (record.deletedAt !== null) return record.deletedAt;
    return this.now() >= record.expiresAt ? record.expiresAt : null;
  }

  #newId(): string {
    for (;;) {
      const id = `ws_${randomToken(24)}`;
      if (!this.#sessions.has(id)) return id;
    }
  }

  #prune(): void {
    const now = this.now();
    for (const [id, record] of this.#sessions) {
      const endedAt = this.endedAt(record);
      if (endedAt !== null && now - endedAt > this.#retainEndedMs) this.#sessions.delete(id);
    }
    if (this.#sessions.size < this.#maxSessions) return;
    // Still full: forget ended sessions oldest first, then the oldest of all.
    const byAge = this.list().reverse();
    const victims = [
      ...byAge.filter((r) => this.endReason(r) !== null),
      ...byAge.filter((r) => this.endReason(r) === null),
    ];
    for (const record of victims) {
      if (this.#sessions.size < this.#maxSessions) break;
      this.#sessions.delete(record.id);
    }
  }
}

/** The documented `GET /v1/widget/sessions/{id}` body; an ended session reads `terminated`. */
export function toVendorSession(store: SessionStore, record: SessionRecord): VendorSession {
  return {
    session_id: record.id,
    agentic_avatar_id: record.agenticAvatarId,
    status: store.endReason(record) === null ? 'active' : 'terminated',
    created_at: new Date(record.createdAt).toISOString(),
    expires_at: new Date(record.expiresAt).toISOString(),
  };
}
