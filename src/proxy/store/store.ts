/**
 * The proxy's store: the registry of live sessions, the queue of server-side
 * deletes, the revocation feed, leases, one-time claims and counters, behind
 * one small async interface. `memoryStore()` is the default (one process);
 * `redisStore()` (`konpro-widget-guard/proxy/redis`) shares it between
 * instances; a site may bring its own. Every implementation passes the same
 * contract tests (`test/proxy/store/contract.ts`).
 *
 * Rules every implementation keeps:
 * - Nothing outlives what it describes: a session's record goes at its
 *   `expiresAt`, a queued delete at its `expiresAt`, a claim, lease or
 *   counter at the end of its time.
 * - Updates are atomic: when several instances race, `unregister` hands a
 *   record to exactly one, `lease` to exactly one owner, `claimOnce` says
 *   true exactly once.
 * - Feed ids are `"<ms>-<seq>"` (the shape of Redis stream ids), strictly
 *   increasing in feed order: compare them with `compareFeedIds`.
 * - Methods reject when the store cannot answer; the proxy degrades (creates,
 *   status and deletes go on through the vendor) rather than fail a request.
 */

/** Why the server ended a session, as the event stream and `listSessions` callers see it. */
export type ServerEndReason = 'revoked' | 'logout' | 'terminated' | 'expired' | 'orphaned';

/** A live widget session in the registry. Times are milliseconds since the epoch. */
export interface RegisteredSession {
  sessionId: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  /** When a page last showed the session (a stream report or a status check); `createdAt` at first. */
  lastSeenAt: number;
  /** How many pages showed it at the last report (0 until one does). */
  pages: number;
}

/** One entry of the revocation feed. */
export interface EndedEvent {
  /** `"<ms>-<seq>"`, strictly increasing in feed order; a stream's `id:` line. */
  id: string;
  sessionId: string;
  userId: string;
  reason: ServerEndReason;
  /** When it was published. */
  at: number;
}

/** How a session's end is published by `unregisterAndPublish`. */
export interface SessionEnd {
  reason: ServerEndReason;
  /** The reason instead, for a record whose `expiresAt` is at or before `at`. */
  expiredReason?: ServerEndReason;
  /** When it ended (the entry's `at`). */
  at: number;
}

/** A server-side delete the vendor has not confirmed yet. */
export interface QueuedDelete {
  sessionId: string;
  userId: string;
  reason: ServerEndReason;
  /** Attempts made so far. */
  attempts: number;
  /** When the next attempt is due. */
  dueAt: number;
  /** The vendor expires the session by then on its own: past it, the entry is dropped. */
  expiresAt: number;
}

/** A fixed-window counter after one more hit. */
export interface WindowCount {
  count: number;
  resetAt: number;
}

export interface StoreHealth {
  ok: boolean;
  /** What is wrong, in words (never a secret or a URL with credentials). */
  detail?: string;
}

export interface WidgetSessionStore {
  /** Adds a session to the registry, or replaces its record. */
  register(session: RegisteredSession): Promise<void>;
  /** Pages showed these sessions at `at` (`pages` of them, when known). Unknown ids are ignored. */
  touch(sessionIds: readonly string[], at: number, pages?: number): Promise<void>;
  /** Live sessions, of one user or of all, oldest first. Expired records are never returned. */
  list(filter?: { userId?: string }): Promise<RegisteredSession[]>;
  /** How many live sessions one user, or the whole site, holds. */
  count(filter?: { userId?: string }): Promise<number>;
  /** Takes a session out of the registry and returns its record; of racing callers exactly one gets it. */
  unregister(sessionId: string): Promise<RegisteredSession | undefined>;
  /**
   * Optional: `unregister` and, when this caller took the record, `publish` of its end, as one step
   * (one round trip on a networked store, and never the one without the other). The event's reason is
   * `end.reason`, or `end.expiredReason` (when given) for a record whose `expiresAt` is at or before
   * `end.at`, its time. Resolves with the record taken, or `undefined` (no entry is published then).
   * A store without it is asked `unregister`, then `publish`.
   */
  unregisterAndPublish?(sessionId: string, end: SessionEnd): Promise<RegisteredSession | undefined>;
  /** Sessions no page has shown since `seenBefore`, least recently seen first, at most `limit`. */
  stale(seenBefore: number, limit: number): Promise<RegisteredSession[]>;

  /** Queues a delete, replacing any queued for the same session. */
  enqueueDelete(entry: QueuedDelete): Promise<void>;
  /** Queued deletes due by `now`, soonest first, at most `limit`. */
  dueDeletes(now: number, limit: number): Promise<QueuedDelete[]>;
  /** Takes a delete off the queue (the vendor confirmed it, or it expired). */
  dequeueDelete(sessionId: string): Promise<void>;

  /** Holds `key` for `ttlMs` unless another owner holds it; true when `owner` holds it now (renewed if it did). */
  lease(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Lets go of `key` if `owner` holds it. */
  release(key: string, owner: string): Promise<void>;

  /** True the first time `key` is claimed while an earlier claim lives (`ttlMs`); false after. */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  /** Counts one hit on `key` in a fixed window of `windowMs`, shared by every instance on the store. */
  hit(key: string, windowMs: number): Promise<WindowCount>;

  /** Appends to the revocation feed (bounded: old entries fall off); resolves with the entry's id. */
  publish(event: Omit<EndedEvent, 'id'>): Promise<string>;
  /** Entries after `afterId` (exclusive), oldest first, at most `limit`: what a reconnecting stream missed. */
  readFeed(afterId: string, limit: number): Promise<EndedEvent[]>;
  /**
   * Calls `listener` for every entry published from now on, by any instance, in feed order,
   * until `signal` aborts. Resolves once following (an entry published after that is delivered).
   * An implementation that loses its connection resumes from the last id it delivered.
   */
  follow(listener: (event: EndedEvent) => void, signal: AbortSignal): Promise<void>;

  /** Whether the store answers now. */
  health(): Promise<StoreHealth>;
  /** Stops its timers and connections. */
  close(): Promise<void>;
}

/** Orders feed ids (`"<ms>-<seq>"`): negative when `a` comes first. */
export function compareFeedIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

/** Whether `value` is a feed id (`Last-Event-ID` from a browser is untrusted input). */
export function isFeedId(value: string): boolean {
  return /^\d{1,15}-\d{1,15}$/.test(value);
}
