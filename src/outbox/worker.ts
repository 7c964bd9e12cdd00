/**
 * One pending delete, as one tab works on it. It waits for the delete's tab
 * lock (one tab at a time works on a delete; the others wait behind it and
 * take over from storage if it dies), then sends it, backs off and sends it
 * again until the proxy gives a final answer, which it stores and tells
 * every tab. Its phases:
 *
 *     waiting ──lock──▶ backoff ⇄ sending ──final answer──▶ storing ──▶ done
 *        └──────────────── leave (page hidden away) ───────────────▶ left
 *
 * A worker that left keeps no lock and waits for none; a request it had in
 * flight is not cancelled (keepalive), and a final answer that still arrives
 * is recorded.
 *
 * One request at a time, across tabs and page lives: the lock says who may
 * send, but a request can outlive the lock (its page closed, or went into
 * the back/forward cache, with it in flight). So every request is marked in
 * the journal (synchronous, every tab reads it) and in the record
 * (`notBefore`) when it goes out, until it is answered; whoever sends next
 * waits for it, or for {@link requestLifetimeMs} after it went out. A page
 * shown again from the cache waits for its own earlier request's answer.
 */
import { cappedRetryAfter, retryDelay } from '../shared/backoff.js';
import type { DeleteDetail, DeleteOutcome } from '../element/events.js';
import { classifyDeleteAnswer, type ProxyAnswer } from '../net/proxy-client.js';
import { sleep } from '../platform/async.js';
import type { TabMessage } from '../tabs/tab-channel.js';
import type { OutboxJournal } from './journal.js';
import type { DeleteOutboxOptions } from './outbox.js';
import type { OutboxEntry, OutboxStore } from './store.js';

export const WorkerPhase = {
  /** Waiting for the delete's tab lock (another tab may hold it). */
  Waiting: 'waiting',
  /** Holding the work, waiting for the next attempt (backoff, `Retry-After`, a request of a closed tab). */
  Backoff: 'backoff',
  /** A request is in flight. */
  Sending: 'sending',
  /** The answer was final and is being stored: nothing more goes out. */
  Storing: 'storing',
  /** The page went away (or into the back/forward cache): the work is given back. */
  Left: 'left',
  /** Settled, here or in another tab, or given up. */
  Done: 'done',
} as const;
export type WorkerPhase = (typeof WorkerPhase)[keyof typeof WorkerPhase];

/**
 * How long a request whose page went away may still be in flight: its time limit no longer
 * aborts it (keepalive), so the attempt's time limit and half as much again, for a proxy that
 * answers past its own vendor deadline (the reference proxy's equals the guard's default limit).
 */
export function requestLifetimeMs(options: Pick<DeleteOutboxOptions, 'timeoutMs'>): number {
  return options.timeoutMs * 1.5;
}

/**
 * Until when a request marked as sent at `sentAt` may still be out. A mark dated ahead counts
 * from `now`: stored data is not trusted to hold a delete back.
 */
export function outUntil(sentAt: number, now: number, options: Pick<DeleteOutboxOptions, 'timeoutMs'>): number {
  return Math.min(sentAt, now) + requestLifetimeMs(options);
}

/** What a worker needs from its outbox. */
export interface WorkerContext {
  readonly store: OutboxStore;
  readonly journal: OutboxJournal;
  readonly options: DeleteOutboxOptions;
  readonly send: (url: string) => Promise<ProxyAnswer>;
  readonly now: () => number;
  readonly random: () => number;
  /** Runs `work` holding the delete's tab lock; `undefined` if `signal` aborts first. */
  lock<T>(key: string, work: () => Promise<T>, signal: AbortSignal): Promise<T | undefined>;
  /** Tells this page's listeners. */
  emit(detail: DeleteDetail): void;
  /** Tells the other tabs. */
  post(message: TabMessage): void;
  /** The worker has stopped. */
  done(key: string, worker: DeleteWorker): void;
  /** The worker left with a request in flight; `answered` settles once its answer is handled. */
  handBack(key: string, answered: Promise<void>): void;
  /** What a worker of this page that left has still in flight for `key`. */
  handedBack(key: string): Promise<void> | undefined;
}

/** One pending delete, as this tab sees it: waiting for the lock, or working on it. */
export class DeleteWorker {
  readonly first: Promise<DeleteOutcome>;
  #resolveFirst!: (outcome: DeleteOutcome) => void;
  #firstSettled = false;
  #phase: WorkerPhase = WorkerPhase.Waiting;
  /** The entry, while this tab holds the work (and after it left it, for a late answer). */
  #entry: OutboxEntry | undefined;
  #inflight: Promise<ProxyAnswer> | undefined;
  /** When the request in flight went out. */
  #sentAt: number | undefined;
  #wake: AbortController | undefined;
  /** Set by a replay (load, online, visible): the next attempt does not wait for its backoff. */
  #urgent = false;
  readonly #stopWaiting = new AbortController();
  /** Another tab heard the proxy confirm this delete (see {@link heard}). */
  #confirmedElsewhere: DeleteDetail | undefined;
  #resolveLeft!: () => void;
  readonly #leaving = new Promise<typeof LEFT>((resolve) => (this.#resolveLeft = () => resolve(LEFT)));

  constructor(
    private readonly outbox: WorkerContext,
    private readonly key: string,
    private readonly sessionId: string,
    /** Try it even if the proxy refused it before (a new logout, or the next load). */
    private readonly retryFailed: boolean,
  ) {
    this.first = new Promise((resolve) => (this.#resolveFirst = resolve));
  }

  /** The phase it is in, for tests and the bench. */
  get phase(): WorkerPhase {
    return this.#phase;
  }

  start(): void {
    this.outbox
      .lock(this.key, () => this.#work(), this.#stopWaiting.signal)
      .catch((error: unknown) => {
        // Storage failed under us: the delete is still in memory of whoever wrote it.
        this.#report(
          { sessionId: this.sessionId, outcome: 'queued', attempts: this.#entry?.attempts ?? 0, error: String(error) },
          false,
        );
      })
      .finally(() => {
        this.#to(WorkerPhase.Done);
        this.outbox.done(this.key, this);
      });
  }

  /** Skip the wait before the next attempt (loaded, back online, visible again). */
  poke(): void {
    this.#urgent = true;
    this.#wake?.abort();
  }

  /**
   * Send now, synchronously, with keepalive: the page is being hidden or
   * closed. Not while an earlier attempt may still be in flight (from this
   * tab or one that closed) or the server asked to wait: the entry stays for
   * the next page.
   */
  sendNow(): void {
    if (!this.#entry || this.#inflight || this.#left() || this.#hardDeadline(this.#entry) > this.outbox.now()) return;
    this.#attempt();
    this.#wake?.abort();
  }

  /**
   * The page is going away: stop waiting for the lock, or give the work
   * back. A request in flight is not cancelled (keepalive); if its answer
   * still arrives here and is final, it is recorded.
   */
  leave(): void {
    // Left already, or done; or a final answer is being stored: let it finish.
    if (this.#phase === WorkerPhase.Left || this.#phase === WorkerPhase.Storing || this.#phase === WorkerPhase.Done)
      return;
    this.#phase = WorkerPhase.Left;
    // Whoever awaits the logout hears where it stands; nothing more is announced.
    if (!this.#firstSettled)
      this.#report({ sessionId: this.sessionId, outcome: 'queued', attempts: this.#entry?.attempts ?? 0 }, false);
    this.#stopWaiting.abort();
    this.#wake?.abort();
    this.#resolveLeft();
  }

  /** Another tab settled this delete. */
  heard(message: Extract<TabMessage, { kind: 'delete-settled' }>): void {
    const detail: DeleteDetail = { sessionId: message.sessionId, outcome: message.outcome, attempts: message.attempts };
    if (message.status !== undefined) detail.status = message.status;
    const final = message.outcome === 'deleted' || message.outcome === 'already-gone';
    if (this.#entry) {
      // We hold the work, so only the late answer to a request a tab sent before it gave the
      // work up (its page was hidden away) can be news here: a confirmation ends our wait.
      if (final && !this.#inflight) {
        this.#confirmedElsewhere = detail;
        this.#wake?.abort();
      }
      return;
    }
    this.#report(detail, false);
    if (message.outcome !== 'queued') this.#stopWaiting.abort();
  }

  async #work(): Promise<void> {
    // This page's own request from before it was in the back/forward cache: its answer first.
    await this.outbox.handedBack(this.key);
    const stored = await this.outbox.store.read(this.key);
    if (!stored || stored.settled || (stored.failed && !this.retryFailed)) {
      // Settled (or refused) in another tab before we got the lock.
      const outcome = stored?.settled?.outcome ?? (stored?.failed ? 'failed' : 'already-gone');
      this.#to(WorkerPhase.Done);
      this.#report({ sessionId: this.sessionId, outcome, attempts: stored?.attempts ?? 0 }, false);
      return;
    }
    const entry = (this.#entry = stored);
    this.#to(WorkerPhase.Backoff);
    const { outbox } = this;
    for (;;) {
      if (this.#left()) return;
      if (outbox.now() - entry.createdAt > outbox.options.maxAgeMs) {
        this.#to(WorkerPhase.Done);
        await outbox.store.remove(this.key);
        this.#report(
          {
            sessionId: entry.sessionId,
            outcome: 'failed',
            attempts: entry.attempts,
            error: 'gave up: unconfirmed past the outbox age limit',
          },
          true,
        );
        return;
      }
      if (!this.#inflight) {
        await this.#waitFor(entry);
        if (this.#left()) return;
        if (this.#confirmedElsewhere) {
          this.#entry = undefined;
          this.#to(WorkerPhase.Done);
          this.#report(this.#confirmedElsewhere, false);
          return;
        }
        if (!this.#inflight) this.#attempt();
      }
      const inflight = this.#inflight!;
      const sentAt = this.#sentAt!;
      const answer = await Promise.race([inflight, this.#leaving]);
      if (answer === LEFT) {
        const takeover = entry.notBefore;
        this.outbox.handBack(
          this.key,
          inflight.then((late) => this.#lateAnswer(entry, late, sentAt, takeover)),
        );
        return;
      }
      this.#inflight = undefined;
      // No answer, and the request may still be at the server (timed out: an abort does not reach a
      // keepalive request there; or a connection lost while online): its mark stays, and the next
      // attempt waits out its lifetime.
      const stillOut = answer.perhapsOut ? sentAt + requestLifetimeMs(outbox.options) : undefined;
      if (!stillOut) outbox.journal.answered(entry.url, sentAt);
      this.#to(WorkerPhase.Backoff);
      const verdict = classifyDeleteAnswer(answer);
      const detail: DeleteDetail = { sessionId: entry.sessionId, outcome: 'queued', attempts: entry.attempts };
      if (answer.status !== 0) detail.status = answer.status;
      const now = outbox.now();
      if (verdict === 'retry') {
        entry.nextAttemptAt = now + retryDelay(entry.attempts, undefined, outbox.options.backoff, outbox.random);
        const asked =
          answer.retryAfterMs === undefined
            ? undefined
            : now + cappedRetryAfter(answer.retryAfterMs, outbox.options.backoff);
        entry.notBefore = stillOut === undefined ? asked : Math.max(asked ?? 0, stillOut);
        await outbox.store.put(entry);
        this.#report(detail, true);
        continue;
      }
      // Final: nothing more goes out from here (not even from a pagehide while we store it).
      this.#entry = undefined;
      this.#to(WorkerPhase.Storing);
      detail.outcome = verdict;
      if (verdict === 'failed') {
        detail.error = `the proxy refused the delete (HTTP ${answer.status}); it will be tried again on the next load`;
        await outbox.store.put({ ...entry, notBefore: undefined, failed: { status: answer.status, at: now } });
      } else {
        const settled: NonNullable<OutboxEntry['settled']> = { outcome: verdict, at: now };
        if (detail.status !== undefined) settled.status = detail.status;
        await outbox.store.put({ ...entry, notBefore: undefined, settled });
      }
      this.#to(WorkerPhase.Done);
      this.#report(detail, true);
      return;
    }
  }

  #attempt(): void {
    const entry = this.#entry!;
    const { outbox } = this;
    entry.attempts += 1;
    entry.failed = undefined;
    const sentAt = (this.#sentAt = outbox.now());
    // Marked before it goes out: whoever sends next (another tab taking over, a closing page's
    // own send, this page shown again) waits for this request, which may outlive this page. The
    // journal has it at once, for every tab; the record counts the attempt too, a moment later.
    outbox.journal.markSent(entry, sentAt);
    entry.notBefore = sentAt + requestLifetimeMs(outbox.options);
    void outbox.store.put(entry).catch(() => {});
    this.#to(WorkerPhase.Sending);
    this.#inflight = this.outbox.send(entry.url);
  }

  /** Waits for the entry's backoff (which a replay cuts short) and its hard deadline (which nothing does). */
  async #waitFor(entry: OutboxEntry): Promise<void> {
    let skipBackoff = false;
    for (;;) {
      // A replay (now or while waiting) cuts the backoff short for this whole wait.
      skipBackoff ||= this.#urgent;
      this.#urgent = false;
      const hard = this.#hardDeadline(entry);
      const target = skipBackoff ? hard : Math.max(hard, entry.nextAttemptAt);
      const delay = target - this.outbox.now();
      if (delay <= 0 || this.#inflight || this.#left() || this.#confirmedElsewhere) return;
      this.#wake = new AbortController();
      await sleep(delay, this.#wake.signal);
      this.#wake = undefined;
    }
  }

  /**
   * No attempt before this: the server's `Retry-After`, a request still out (this tab's, or one
   * marked in the journal by a page that sent it and went away, whatever the record says yet).
   */
  #hardDeadline(entry: OutboxEntry): number {
    const marked = this.#inflight ? undefined : this.outbox.journal.sentAt(entry.url);
    const out = marked === undefined ? 0 : outUntil(marked, this.outbox.now(), this.outbox.options);
    return Math.max(entry.notBefore ?? 0, out);
  }

  /**
   * The answer to a request sent before this tab gave the work back. A final
   * one is recorded (unless storage already has a settlement) and told to
   * every tab; a retry is left to whoever works on the entry now, with the
   * wait for this request lifted (`takeover`: what it was) unless the server
   * asked for one or the request may still be out (no answer: timed out).
   */
  async #lateAnswer(entry: OutboxEntry, answer: ProxyAnswer, sentAt: number, takeover?: number): Promise<void> {
    const { outbox } = this;
    // No answer (timed out, or a connection lost while online): the request may still be at the
    // server, so its mark stays and whoever sends next still waits out its lifetime, as in #work.
    const stillOut = answer.perhapsOut ? sentAt + requestLifetimeMs(outbox.options) : undefined;
    if (stillOut === undefined) outbox.journal.answered(entry.url, sentAt);
    const verdict = classifyDeleteAnswer(answer);
    if (verdict === 'retry') {
      const asked =
        answer.retryAfterMs === undefined
          ? undefined
          : outbox.now() + cappedRetryAfter(answer.retryAfterMs, outbox.options.backoff);
      const notBefore = stillOut === undefined ? asked : Math.max(asked ?? 0, stillOut);
      const current = await outbox.store.read(this.key);
      if (current && !current.settled && current.notBefore === takeover)
        await outbox.store.write(this.key, (existing = current) =>
          !existing.settled && existing.notBefore === takeover ? { ...existing, notBefore } : existing,
        );
      return;
    }
    if (verdict !== 'deleted' && verdict !== 'already-gone') return;
    const settled: NonNullable<OutboxEntry['settled']> = {
      outcome: verdict,
      status: answer.status,
      at: this.outbox.now(),
    };
    await this.outbox.store.write(this.key, (existing) =>
      existing?.settled ? existing : { ...(existing ?? entry), notBefore: undefined, settled },
    );
    this.#report(
      { sessionId: entry.sessionId, outcome: verdict, attempts: entry.attempts, status: answer.status },
      true,
    );
  }

  /** Resolves `first` once; tells listeners here, and (for our own work) the other tabs. */
  #report(detail: DeleteDetail, ours: boolean): void {
    if (ours) {
      const message: TabMessage = {
        kind: 'delete-settled',
        key: this.key,
        sessionId: detail.sessionId,
        outcome: detail.outcome,
        attempts: detail.attempts,
      };
      if (detail.status !== undefined) message.status = detail.status;
      this.outbox.post(message);
    }
    this.outbox.emit(detail);
    if (!this.#firstSettled) {
      this.#firstSettled = true;
      this.#resolveFirst({ sessionId: detail.sessionId, outcome: detail.outcome, attempts: detail.attempts });
    }
  }

  /** Moves on to `phase`; a worker that left stays left (nothing may take the work up again). */
  #to(phase: WorkerPhase): void {
    if (this.#phase !== WorkerPhase.Left) this.#phase = phase;
  }

  /** Whether {@link leave} gave the work back (the next step stops). */
  #left(): boolean {
    return this.#phase === WorkerPhase.Left;
  }
}

const LEFT = Symbol('left');
