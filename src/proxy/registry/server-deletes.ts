/**
 * Server-side deletes that are never lost. A delete the proxy makes on its
 * own (revokeUser, revokeSession, endSessions, the orphan sweep, a create at
 * the user's cap) is written ahead: it goes into the store's queue, under the
 * session's delete lease, before the vendor is called, so an instance that
 * dies mid-call leaves it to the others once its lease lapses. The vendor's
 * confirmation (2xx, or 404: already gone) takes it off the queue; a failure
 * it cannot confirm now (5xx, 429, time-out, unreachable) leaves it queued
 * with its next due time, retried with backoff and jitter, honouring
 * `Retry-After`, until the vendor confirms it or the session has expired on
 * its own. Each attempt runs under the lease, so with a shared store one
 * instance sends a given delete at a time.
 *
 * While the store is down the queue lives in this instance's memory and is
 * moved to the store once it answers again.
 */
import { DEFAULT_BACKOFF, parseRetryAfter, retryDelay, type BackoffOptions } from '../../shared/backoff.js';
import type { QueuedDelete, ServerEndReason } from '../store/store.js';
import type { VendorClient, VendorFailure } from '../vendor-client.js';
import type { GuardedStore } from './guarded-store.js';
import type { Recorder } from './recorder.js';
import type { Scheduler } from './scheduler.js';

/** A session to end at the vendor. */
export interface DeleteTarget {
  sessionId: string;
  userId: string;
  /** When the vendor expires it anyway; past it, nothing is retried. */
  expiresAt: number;
}

/** What a first attempt came to: `queued` will be retried; `refused` (a 4xx other than 429) never will. */
export type DeleteOutcome = 'deleted' | 'already-gone' | 'queued' | 'refused';

/** Queued deletes one run attempts at most; the rest wait for the next run. */
const BATCH = 100;
/** A bound on the in-memory fallback queue while the store is down. */
const MAX_LOCAL = 10_000;

export interface ServerDeletesOptions {
  vendor: Pick<VendorClient, 'endSession'>;
  store: GuardedStore;
  scheduler: Scheduler;
  record: Recorder;
  /** This instance's lease owner name. */
  instanceId: string;
  /** How long a lease is held: longer than one vendor call can take. */
  leaseMs: number;
  backoff?: BackoffOptions;
}

export class ServerDeletes {
  readonly #options: ServerDeletesOptions;
  readonly #backoff: BackoffOptions;
  /** Deletes the store could not take, by session id. */
  readonly #local = new Map<string, QueuedDelete>();
  /** Sessions this instance is sending a delete for now (a lease renews for its own holder, so it cannot tell). */
  readonly #sending = new Set<string>();
  #cancelWake: (() => void) | undefined;
  #wakeAt = Infinity;

  constructor(options: ServerDeletesOptions) {
    this.#options = options;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  /**
   * The first attempt of a server-side delete, written ahead (see above).
   * `announce` runs once the delete is recorded and before the vendor call:
   * the registry publishes the end there, so pages hear of it without
   * waiting for the vendor. When another instance (or this one's retry) is
   * sending the same delete now, this one is recorded for after it and
   * `queued`, not sent twice at once.
   */
  async end(target: DeleteTarget, reason: ServerEndReason, announce?: () => Promise<void>): Promise<DeleteOutcome> {
    const { store, instanceId, leaseMs } = this.#options;
    const { sessionId } = target;
    const entry: QueuedDelete = { ...target, reason, attempts: 0, dueAt: Date.now() };
    const key = deleteLeaseKey(sessionId);
    const leased = this.#sending.has(sessionId)
      ? ({ ok: true, value: false } as const)
      : await store.attempt((s) => s.lease(key, instanceId, leaseMs));
    if (leased.ok && !leased.value) {
      const recorded = await store.attempt((s) => s.enqueueDelete(entry));
      if (!recorded.ok) this.#keepLocally(entry);
      await announce?.();
      // Its holder is done within the lease; the next run after that sends this one if it must.
      this.#wake(Date.now() + Math.min(leaseMs, 1_000));
      return 'queued';
    }
    // Without a store (it does not answer) there is nothing to lease or write ahead: the delete is
    // this instance's alone, kept in its memory should the vendor fail.
    const recorded = leased.ok ? (await store.attempt((s) => s.enqueueDelete(entry))).ok : false;
    this.#sending.add(sessionId);
    let retryAt: number | undefined;
    try {
      await announce?.();
      const result = await this.#options.vendor.endSession(sessionId);
      if (result.ok || result.reason === 'not-found') {
        if (recorded) await store.attempt((s) => s.dequeueDelete(sessionId));
        return result.ok ? 'deleted' : 'already-gone';
      }
      const failed = await this.#failed(entry, result);
      retryAt = failed.retryAt;
      if (failed.outcome === 'refused' && recorded) await store.attempt((s) => s.dequeueDelete(sessionId));
      return failed.outcome;
    } finally {
      this.#sending.delete(sessionId);
      if (leased.ok) await store.attempt((s) => s.release(key, instanceId));
      // Only now: a retry that ran while this attempt was still sending would skip it.
      if (retryAt !== undefined) this.#wake(retryAt);
    }
  }

  /** Attempts every queued delete that is due; returns the ids attempted and those the vendor confirmed. */
  async retryDue(now: number = Date.now()): Promise<{ retried: string[]; confirmed: string[] }> {
    const { store, instanceId, leaseMs } = this.#options;
    await this.#moveLocalToStore();
    const queued = await store.attempt((s) => s.dueDeletes(now, BATCH));
    const due = [
      ...(queued.ok ? queued.value.map((entry) => ({ entry, local: false })) : []),
      ...[...this.#local.values()].filter((entry) => entry.dueAt <= now).map((entry) => ({ entry, local: true })),
    ];
    const retried: string[] = [];
    const confirmed: string[] = [];
    for (const { entry, local } of due) {
      if (this.#sending.has(entry.sessionId)) continue;
      if (entry.expiresAt <= Date.now()) {
        await this.#forget(entry, local);
        await this.#options.record('info', 'delete-expired', entry, { attempts: entry.attempts });
        continue;
      }
      const key = deleteLeaseKey(entry.sessionId);
      // With the store down the local entry is this instance's alone: no lease to take.
      if (!local) {
        const leased = await store.attempt((s) => s.lease(key, instanceId, leaseMs));
        if (!leased.ok || !leased.value) continue;
      }
      this.#sending.add(entry.sessionId);
      let retryAt: number | undefined;
      try {
        retried.push(entry.sessionId);
        const result = await this.#options.vendor.endSession(entry.sessionId);
        if (result.ok || result.reason === 'not-found') {
          await this.#forget(entry, local);
          confirmed.push(entry.sessionId);
          await this.#options.record('info', 'delete-confirmed', entry, { attempts: entry.attempts + 1 });
        } else {
          const failed = await this.#failed(entry, result);
          retryAt = failed.retryAt;
          if (failed.outcome === 'refused') await this.#forget(entry, local);
        }
      } finally {
        this.#sending.delete(entry.sessionId);
        if (!local) await store.attempt((s) => s.release(key, instanceId));
        if (retryAt !== undefined) this.#wake(retryAt);
      }
    }
    // Entries kept in memory that are not due yet (a timer may fire a little early): their own wake-up.
    let soonest = Infinity;
    for (const entry of this.#local.values()) if (entry.dueAt > now) soonest = Math.min(soonest, entry.dueAt);
    if (soonest !== Infinity) this.#wake(soonest);
    return { retried, confirmed };
  }

  /** Queued deletes this instance holds in memory because the store did not take them. */
  get localCount(): number {
    return this.#local.size;
  }

  /**
   * Records a failed attempt: queued with its next due time (`retryAt`, for the caller to wake the
   * queue at once it is done sending), or refused for good.
   */
  async #failed(entry: QueuedDelete, failure: VendorFailure): Promise<{ outcome: DeleteOutcome; retryAt?: number }> {
    const attempts = entry.attempts + 1;
    if (!isRetryable(failure)) {
      await this.#options.record('error', 'delete-refused', entry, {
        status: failure.status,
        requestId: failure.body.request_id,
        attempts,
      });
      return { outcome: 'refused' };
    }
    const now = Date.now();
    const wait = retryDelay(attempts, parseRetryAfter(failure.retryAfter, now), this.#backoff);
    const next: QueuedDelete = { ...entry, attempts, dueAt: now + wait };
    if (next.dueAt >= next.expiresAt) {
      // The vendor ends the session before the next attempt would: nothing left to do.
      await this.#forget(entry, this.#local.has(entry.sessionId));
      await this.#options.record('info', 'delete-expired', entry, { attempts });
      return { outcome: 'queued' };
    }
    const stored = await this.#options.store.attempt((s) => s.enqueueDelete(next));
    if (stored.ok) this.#local.delete(entry.sessionId);
    else this.#keepLocally(next);
    await this.#options.record('warn', 'delete-queued', entry, {
      status: failure.status,
      requestId: failure.body.request_id,
      attempts,
    });
    return { outcome: 'queued', retryAt: next.dueAt };
  }

  #keepLocally(entry: QueuedDelete): void {
    this.#local.delete(entry.sessionId);
    if (this.#local.size >= MAX_LOCAL) {
      // The one closest to expiring on its own matters least.
      const first = [...this.#local.values()].reduce((a, b) => (a.expiresAt <= b.expiresAt ? a : b));
      this.#local.delete(first.sessionId);
    }
    this.#local.set(entry.sessionId, entry);
  }

  async #moveLocalToStore(): Promise<void> {
    for (const entry of [...this.#local.values()]) {
      const stored = await this.#options.store.attempt((s) => s.enqueueDelete(entry));
      if (!stored.ok) return;
      this.#local.delete(entry.sessionId);
    }
  }

  async #forget(entry: QueuedDelete, local: boolean): Promise<void> {
    if (local) this.#local.delete(entry.sessionId);
    else await this.#options.store.attempt((s) => s.dequeueDelete(entry.sessionId));
  }

  /** Runs the queue when its soonest known entry is due, rather than waiting for the next sweep. */
  #wake(at: number): void {
    if (at >= this.#wakeAt) return;
    this.#cancelWake?.();
    this.#wakeAt = at;
    this.#cancelWake = this.#options.scheduler.after(at - Date.now(), async () => {
      this.#wakeAt = Infinity;
      this.#cancelWake = undefined;
      // The timer may fire a moment before the wall clock reaches `at`: what was due then is due now.
      await this.retryDue(Math.max(Date.now(), at));
    });
  }
}

/** The lease under which one instance at a time sends (or decides on) a session's delete. */
export function deleteLeaseKey(sessionId: string): string {
  return `delete:${sessionId}`;
}

/** Failures worth another attempt later. A refusal (a 4xx other than 429) will be refused again. */
function isRetryable(failure: VendorFailure): boolean {
  return failure.reason !== 'rejected';
}
