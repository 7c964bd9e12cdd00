/**
 * The registry of live sessions: which sessions each user has on every
 * device and when a page last showed each. It adds what the signed cookies
 * cannot know; ownership checks never depend on it. Ending a session here
 * takes it out of the registry (exactly one caller gets its record, however
 * many race) and publishes it on the revocation feed, which reaches every
 * open page of its user through the event streams.
 */
import { describeInvalidSessionId, isValidSessionId } from '../../shared/session-id.js';
import type { RegisteredSession, ServerEndReason } from '../store/store.js';
import type { Attempt, GuardedStore } from './guarded-store.js';
import type { Recorder } from './recorder.js';
import type { Scheduler } from './scheduler.js';
import { deleteLeaseKey, type DeleteOutcome, type DeleteTarget, type ServerDeletes } from './server-deletes.js';

/** What `revokeUser` and `revokeSession` did. */
export interface RevokeResult {
  /** Sessions the vendor ended now (or had already ended). */
  ended: string[];
  /** Sessions the vendor could not end now; their deletes are queued and retried. */
  failed: string[];
}

/** Options of `revokeUser` and `revokeSession`. */
export interface RevokeOptions {
  /** What the pages are told (`event: ended`, `data.reason`). Default `revoked`. */
  reason?: ServerEndReason;
}

const REASONS: ReadonlySet<string> = new Set<ServerEndReason>([
  'revoked',
  'logout',
  'terminated',
  'expired',
  'orphaned',
]);

/** Stale sessions one sweep looks at; the rest wait for the next. */
const SWEEP_BATCH = 100;
/** Vendor deletes a revocation or sweep sends at once. */
const CONCURRENCY = 8;
/** Sessions created while the store was down that one instance keeps for registering later. */
const MAX_PENDING = 10_000;
/** The longest status checks' "last seen" waits before it is written (less with a short `orphanAfterMs`). */
const SHOWN_FLUSH_MS = 1_000;
/** The most rounds of listing and ending one create spends holding the user's cap. */
const MAX_CAP_ROUNDS = 32;
/** Sessions shown since the last write that make the next write go out at once. */
const MAX_SHOWN = 1_000;

export interface SessionRegistryOptions {
  store: GuardedStore;
  deletes: ServerDeletes;
  record: Recorder;
  scheduler: Scheduler;
  /** 0: no orphan sweep. */
  orphanAfterMs: number;
  instanceId: string;
  leaseMs: number;
  /** The longest a session lives (`max_duration`): the expiry of a session the registry does not know. */
  sessionLifetimeMs: number;
  /** Whether one of this instance's open streams reports the session now. */
  shownHere: (sessionId: string) => boolean;
  /** The proxy learns that a session ends (before and after its vendor delete): e.g. to forget cached status. */
  ending: (sessionId: string) => void;
}

export class SessionRegistry {
  readonly #options: SessionRegistryOptions;
  /** Sessions created while the store did not answer, by id: registered once it does (`catchUp`). */
  readonly #pending = new Map<string, RegisteredSession>();
  #catchingUp: Promise<void> | undefined;
  /** No session is called an orphan before this time (ms): pages get a full `orphanAfterMs` after an outage. */
  #sweepFrom = 0;
  /** Sessions status checks showed since the last write, with when they last did. */
  readonly #shown = new Map<string, number>();
  #cancelShownWrite: (() => void) | undefined;
  /** The write of "last seen" in flight, if any. */
  #writingShown: Promise<void> | undefined;
  readonly #shownFlushMs: number;

  constructor(options: SessionRegistryOptions) {
    this.#options = options;
    // A page's check reaches the store well within `orphanAfterMs`, whichever instance sweeps.
    this.#shownFlushMs =
      options.orphanAfterMs > 0 ? Math.min(SHOWN_FLUSH_MS, options.orphanAfterMs / 4) : SHOWN_FLUSH_MS;
  }

  /**
   * A new session of `userId`. While the store does not answer the create
   * goes on (the guard's guarantees do not depend on the registry) and the
   * session is kept here, to be registered when the store is back.
   */
  async created(session: RegisteredSession): Promise<void> {
    const registered = await this.#options.store.attempt((s) => s.register(session));
    if (registered.ok) return;
    if (this.#pending.size >= MAX_PENDING) {
      // The one closest to expiring on its own matters least.
      const first = [...this.#pending.values()].reduce((a, b) => (a.expiresAt <= b.expiresAt ? a : b));
      this.#pending.delete(first.sessionId);
    }
    this.#pending.set(session.sessionId, session);
  }

  /**
   * Registers the sessions created while the store was down (on its
   * recovery, before every revocation, listing, cap and sweep). Each counts
   * as shown now: pages showed it all along, but the store could not hear
   * of it, and an outage must not make a live session look orphaned.
   */
  catchUp(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    this.#catchingUp ??= (async () => {
      try {
        for (const session of [...this.#pending.values()]) {
          const now = Date.now();
          if (session.expiresAt <= now) {
            this.#pending.delete(session.sessionId);
            continue;
          }
          const record = { ...session, lastSeenAt: Math.max(session.lastSeenAt, now) };
          const registered = await this.#options.store.attempt((s) => s.register(record));
          if (!registered.ok) return;
          this.#pending.delete(session.sessionId);
        }
      } finally {
        this.#catchingUp = undefined;
      }
    })();
    return this.#catchingUp;
  }

  /**
   * A page showed these sessions now (a status check). Not on the request's path: the checks of a
   * moment are written to the store together (one `touch`, within `SHOWN_FLUSH_MS`), and before this
   * instance lists sessions or sweeps for orphans. The batch's time is its latest check's, so a
   * session never looks less recently seen than it was.
   */
  shown(sessionIds: readonly string[]): void {
    const now = Date.now();
    for (const sessionId of sessionIds) this.#shown.set(sessionId, now);
    if (this.#shown.size >= MAX_SHOWN) void this.writeShown();
    else
      this.#cancelShownWrite ??= this.#options.scheduler.after(this.#shownFlushMs, () => {
        this.#cancelShownWrite = undefined;
        return this.writeShown();
      });
  }

  /** Writes what status checks showed so far; resolves once every write begun before is done. */
  writeShown(): Promise<void> {
    this.#cancelShownWrite?.();
    this.#cancelShownWrite = undefined;
    if (this.#shown.size > 0) {
      const sessionIds = [...this.#shown.keys()];
      let at = 0;
      for (const time of this.#shown.values()) at = Math.max(at, time);
      this.#shown.clear();
      const previous = this.#writingShown;
      const writing = (async () => {
        await previous;
        // A store that does not answer loses these; `storeRecovered` gives pages their time again.
        await this.#options.store.attempt((s) => s.touch(sessionIds, at));
      })();
      this.#writingShown = writing;
      void writing.then(() => {
        if (this.#writingShown === writing) this.#writingShown = undefined;
      });
    }
    return this.#writingShown ?? Promise.resolve();
  }

  /**
   * A session ended (the vendor said so, or the proxy decided it): out of the registry and onto the
   * feed, in one store call where the store can (`unregisterAndPublish`). `expiredReason` replaces
   * `reason` for a record past its `expiresAt` now. Resolves with the record, when this caller took it.
   */
  async ended(
    sessionId: string,
    reason: ServerEndReason,
    expiredReason?: ServerEndReason,
  ): Promise<RegisteredSession | undefined> {
    this.#options.ending(sessionId);
    this.#pending.delete(sessionId);
    this.#shown.delete(sessionId);
    const { store } = this.#options;
    const end = { reason, at: Date.now(), ...(expiredReason === undefined ? {} : { expiredReason }) };
    if (store.store.unregisterAndPublish) {
      const taken = await store.attempt((s) => s.unregisterAndPublish!(sessionId, end));
      return taken.ok ? taken.value : undefined;
    }
    const taken = await store.attempt((s) => s.unregister(sessionId));
    if (!taken.ok || !taken.value) return undefined;
    const expired = expiredReason !== undefined && taken.value.expiresAt <= end.at;
    await this.#publish(taken.value, expired ? expiredReason : reason);
    return taken.value;
  }

  /**
   * Ends one session server-side, whoever owns it: out of the registry, its
   * delete written ahead, the end published, then deleted at the vendor. A
   * session the registry does not know (it was lost, or never registered)
   * may still be live at the vendor: it is deleted all the same. `known`:
   * whether the registry had it.
   */
  async endOne(sessionId: string, reason: ServerEndReason): Promise<{ known: boolean; outcome: DeleteOutcome }> {
    this.#pending.delete(sessionId);
    const taken = await this.#options.store.attempt((s) => s.unregister(sessionId));
    const record = taken.ok ? taken.value : undefined;
    const outcome = await this.#delete(
      this.fallbackTarget(sessionId, record),
      reason,
      record ? () => this.#publish(record, reason) : undefined,
    );
    return { known: record !== undefined, outcome };
  }

  /** A delete target for a session whose record may be gone: the longest possible life, no known user. */
  fallbackTarget(sessionId: string, session?: RegisteredSession): DeleteTarget {
    return session ?? { sessionId, userId: '', expiresAt: Date.now() + this.#options.sessionLifetimeMs };
  }

  async revokeUser(userId: unknown, options: RevokeOptions | undefined): Promise<RevokeResult> {
    if (typeof userId !== 'string' || userId === '')
      throw new TypeError(
        `konpro-widget-guard/proxy: revokeUser(userId) needs the user id string authorize() returns, got ${describe(userId)}`,
      );
    const reason = reasonOf(options, 'revokeUser');
    await this.catchUp();
    const sessions = await this.#options.store.require((s) => s.list({ userId }), 'revokeUser');
    const result: RevokeResult = { ended: [], failed: [] };
    await forEachLimited(sessions, CONCURRENCY, async (session) => {
      const taken = await this.#options.store.attempt((s) => s.unregister(session.sessionId));
      // Someone else (a logout, another revocation, the sweep) ended it meanwhile.
      if (taken.ok && !taken.value) return;
      const record = taken.ok && taken.value ? taken.value : session;
      tally(result, record.sessionId, await this.#delete(record, reason, () => this.#publish(record, reason)));
    });
    await this.#options.record('info', 'session-revoked', { userId }, { reason, detail: summary(result) });
    return result;
  }

  async revokeSession(sessionId: unknown, options: RevokeOptions | undefined): Promise<RevokeResult> {
    if (!isValidSessionId(sessionId))
      throw new TypeError(
        `konpro-widget-guard/proxy: revokeSession(sessionId): ${describeInvalidSessionId(sessionId)}`,
      );
    const reason = reasonOf(options, 'revokeSession');
    const { known, outcome } = await this.endOne(sessionId, reason);
    const result: RevokeResult = { ended: [], failed: [] };
    if (known || outcome !== 'already-gone') tally(result, sessionId, outcome);
    await this.#options.record('info', 'session-revoked', { sessionId }, { reason, detail: summary(result) });
    return result;
  }

  /** Live sessions, of one user or all, oldest first. Rejects when the store does not answer. */
  async list(filter: unknown): Promise<RegisteredSession[]> {
    if (filter !== undefined && (typeof filter !== 'object' || filter === null))
      throw new TypeError('konpro-widget-guard/proxy: listSessions(filter) takes {userId?} or nothing');
    const { userId } = (filter ?? {}) as { userId?: unknown };
    if (userId !== undefined && (typeof userId !== 'string' || userId === ''))
      throw new TypeError(
        `konpro-widget-guard/proxy: listSessions({userId}) needs a user id string, got ${describe(userId)}`,
      );
    await this.catchUp();
    await this.writeShown();
    return this.#options.store.require((s) => s.list(userId === undefined ? {} : { userId }), 'listSessions');
  }

  /**
   * The store answers again after an outage. Meanwhile no page could be
   * recorded as showing its session, so for `orphanAfterMs` from now nothing
   * is called an orphan: a page that kept checking gets to say so first.
   */
  storeRecovered(): void {
    this.#sweepFrom = Date.now() + this.#options.orphanAfterMs;
  }

  /** Ends sessions no page has shown for `orphanAfterMs`, each under a lease; resolves with their ids. */
  async sweepOrphans(): Promise<string[]> {
    const { orphanAfterMs, store, instanceId, leaseMs } = this.#options;
    if (orphanAfterMs === 0) return [];
    await this.catchUp();
    await this.writeShown();
    const cutoff = Date.now() - orphanAfterMs;
    const stale = await store.attempt((s) => s.stale(cutoff, SWEEP_BATCH));
    // Checked once the store has answered: that answer may be the one that ends an outage.
    if (!stale.ok || Date.now() < this.#sweepFrom) return [];
    const orphaned: string[] = [];
    await forEachLimited(stale.value, CONCURRENCY, async ({ sessionId }) => {
      if (this.#options.shownHere(sessionId)) {
        // A stream here reports it; its last touch did not reach the store in time.
        await store.attempt((s) => s.touch([sessionId], Date.now()));
        return;
      }
      const key = deleteLeaseKey(sessionId);
      const leased = await store.attempt((s) => s.lease(key, instanceId, leaseMs));
      if (!leased.ok || !leased.value) return;
      try {
        const taken = await store.attempt((s) => s.unregister(sessionId));
        if (!taken.ok || !taken.value) return;
        const session = taken.value;
        if (session.lastSeenAt >= cutoff) {
          // A page showed it between the two reads: it is not an orphan after all.
          await store.attempt((s) => s.register(session));
          return;
        }
        await this.#delete(session, 'orphaned', () => this.#publish(session, 'orphaned'));
        orphaned.push(sessionId);
        await this.#options.record('info', 'session-orphaned', session, { reason: 'orphaned' });
      } finally {
        await store.attempt((s) => s.release(key, instanceId));
      }
    });
    return orphaned;
  }

  /**
   * Makes room for one more session of `userId` under `cap`: ends the user's
   * oldest sessions (deleted at the vendor, written ahead; pages hear
   * `revoked`) until fewer than `cap` are left. Racing creates each end
   * sessions of their own (of racing callers exactly one takes a record).
   * Resolves with the ids ended; none when the store does not answer (the
   * cap cannot be known then, and a create must not fail for it).
   */
  async makeRoom(userId: string, cap: number, counted?: Attempt<number>): Promise<string[]> {
    const { store } = this.#options;
    await this.catchUp();
    const count = counted ?? (await this.count(userId));
    if (!count.ok || count.value < cap) return [];
    const sessions = await store.attempt((s) => s.list({ userId }));
    if (!sessions.ok) return [];
    let excess = sessions.value.length - (cap - 1);
    const ended: string[] = [];
    for (const { sessionId } of sessions.value) {
      if (excess <= 0) break;
      const evicted = await this.#evict(sessionId);
      if (evicted === false) break;
      // Ended meanwhile by someone else (a logout, another create at the cap): try the next oldest.
      if (evicted === undefined) continue;
      excess--;
      ended.push(sessionId);
    }
    return ended;
  }

  /**
   * After a create's session is registered: the user holds at most `cap`. Creates of one user at the
   * same moment (on this instance or another) each counted before any of them registered, so together
   * they can leave more; the oldest go, counted again after each, so that racing instances end the
   * excess once between them and never a session too many.
   */
  async holdCap(userId: string, cap: number): Promise<string[]> {
    const ended: string[] = [];
    // Bounded: a store whose list and unregister disagree must not keep a create here.
    for (let round = 0; round < MAX_CAP_ROUNDS; round++) {
      const sessions = await this.#options.store.attempt((s) => s.list({ userId }));
      if (!sessions.ok || sessions.value.length <= cap) return ended;
      const { sessionId } = sessions.value[0];
      const evicted = await this.#evict(sessionId);
      if (evicted === false) return ended;
      // Another instance holding the cap took it: count again.
      if (evicted) ended.push(sessionId);
    }
    return ended;
  }

  /**
   * Ends a session for the user's cap (its pages hear `revoked`): the record once out of the store,
   * `undefined` when someone else took it out first, `false` when the store did not answer.
   */
  async #evict(sessionId: string): Promise<RegisteredSession | undefined | false> {
    const taken = await this.#options.store.attempt((s) => s.unregister(sessionId));
    if (!taken.ok) return false;
    const session = taken.value;
    if (!session) return undefined;
    const outcome = await this.#delete(session, 'revoked', () => this.#publish(session, 'revoked'));
    await this.#options.record('info', 'session-evicted', session, {
      reason: 'revoked',
      detail: `maxSessionsPerUser ${outcome}`,
    });
    return session;
  }

  /**
   * How many live sessions `userId` has, as `makeRoom` counts them: a create asks it beside its rate
   * limit, so the two go to the store together (one round trip on a networked store).
   */
  async count(userId: string): Promise<Attempt<number>> {
    await this.catchUp();
    return this.#options.store.attempt((s) => s.count({ userId }));
  }

  /** A server-side delete, with the status cache forgotten before it and after it. */
  async #delete(target: DeleteTarget, reason: ServerEndReason, announce?: () => Promise<void>): Promise<DeleteOutcome> {
    this.#options.ending(target.sessionId);
    try {
      return await this.#options.deletes.end(target, reason, announce);
    } finally {
      this.#options.ending(target.sessionId);
    }
  }

  async #publish(session: RegisteredSession, reason: ServerEndReason): Promise<void> {
    const { sessionId, userId } = session;
    await this.#options.store.attempt((s) => s.publish({ sessionId, userId, reason, at: Date.now() }));
  }
}

function reasonOf(options: RevokeOptions | undefined, method: string): ServerEndReason {
  if (options !== undefined && (typeof options !== 'object' || options === null))
    throw new TypeError(`konpro-widget-guard/proxy: ${method}'s second argument is {reason?} or nothing`);
  const reason = options?.reason ?? 'revoked';
  if (!REASONS.has(reason))
    throw new TypeError(
      `konpro-widget-guard/proxy: ${method} reason must be one of ${[...REASONS].join(', ')}, got ${describe(reason)}`,
    );
  return reason;
}

function tally(result: RevokeResult, sessionId: string, outcome: DeleteOutcome): void {
  (outcome === 'deleted' || outcome === 'already-gone' ? result.ended : result.failed).push(sessionId);
}

function summary(result: RevokeResult): string {
  return `${result.ended.length} ended, ${result.failed.length} failed`;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : value === null ? 'null' : typeof value;
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
