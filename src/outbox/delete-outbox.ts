/**
 * The deletes of logged-out sessions, kept until the proxy confirms them.
 *
 * - A delete is journaled synchronously in the logout's own task (see
 *   outbox-journal.ts), written to IndexedDB before the first network
 *   attempt, and leaves the pending state only when the proxy confirms it
 *   (2xx, or "gone").
 *   A confirmed delete stays a while as a tombstone, so a late logout of the
 *   same session in another tab does not send it again.
 * - 429, 5xx, time-outs and network errors are retried with capped
 *   exponential backoff and full jitter, honouring `Retry-After` (which no
 *   replay skips). 400/401/403 cannot succeed by retrying now: they fail at
 *   once, and the entry stays, to be tried again on the next load (the user
 *   may have signed in again) until the age limit.
 * - One tab at a time works on a delete (a tab lock per delete); the others
 *   wait behind it and take over from storage if it dies. Every settlement is
 *   told to the other tabs, so each tab that asked for the delete hears how it
 *   ended.
 * - Pending deletes are replayed on load, when the page comes back online and
 *   when it becomes visible; every attempt uses `keepalive`, and a delete
 *   waiting for its retry is sent at once when the page is hidden.
 */
import { createStore, entries, get, set, del, update, type UseStore } from 'idb-keyval';
import { cappedRetryAfter, DEFAULT_BACKOFF, retryDelay, type BackoffOptions } from '../shared/backoff.js';
import type { DeleteDetail, DeleteOutcome, DeleteOutcomeKind } from '../element/events.js';
import { OutboxJournal, type JournalEntry } from './outbox-journal.js';
import { callProxy, classifyDeleteAnswer, type ProxyAnswer } from '../net/proxy-client.js';
import { tabChannel, type TabChannel, type TabMessage } from '../tabs/tab-channel.js';
import { sleep } from '../platform/async.js';
import { tabLocks, type TabLocks } from '../tabs/tab-lock.js';

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

export interface DeleteOutboxOptions {
  /** A pending delete older than this is given up, with an event. */
  maxAgeMs: number;
  /** How long a confirmed delete is remembered, to not send it twice. */
  tombstoneMs: number;
  backoff: BackoffOptions;
  /** Time limit of one attempt. */
  timeoutMs: number;
}

const OUTBOX_DEFAULTS: DeleteOutboxOptions = {
  maxAgeMs: 24 * 3600_000,
  tombstoneMs: 15 * 60_000,
  backoff: DEFAULT_BACKOFF,
  timeoutMs: 10_000,
};

export interface DeleteOutboxDeps {
  store?: UseStore | null;
  locks?: TabLocks;
  channel?: TabChannel;
  journal?: OutboxJournal;
  send?: (url: string) => Promise<ProxyAnswer>;
  now?: () => number;
  random?: () => number;
  options?: Partial<DeleteOutboxOptions>;
}

type SettleListener = (detail: DeleteDetail) => void;

function openOutboxStore(): UseStore | null {
  try {
    return typeof indexedDB === 'undefined' ? null : createStore('konpro-widget-guard-outbox', 'deletes');
  } catch {
    return null;
  }
}

const LOCK_PREFIX = 'konpro-widget-guard:delete:';

export class DeleteOutbox {
  #store: UseStore | null;
  /** Called once if IndexedDB fails and the outbox falls back to memory. */
  onStorageError: ((error: unknown) => void) | undefined;
  /** Used instead of IndexedDB where it is unavailable (then only this tab knows). */
  readonly #memory = new Map<string, OutboxEntry>();
  readonly #locks: TabLocks;
  readonly #channel: TabChannel;
  readonly #journal: OutboxJournal;
  /** Deletes journaled but not yet in IndexedDB, by URL. */
  readonly #unwritten = new Set<string>();
  readonly send: (url: string) => Promise<ProxyAnswer>;
  readonly now: () => number;
  readonly random: () => number;
  readonly options: DeleteOutboxOptions;
  readonly #workers = new Map<string, DeleteWorker>();
  readonly #listeners = new Set<SettleListener>();
  #attachments = 0;
  #pageListeners: AbortController | undefined;
  #replayed = false;
  #hearing: AbortController | undefined;

  constructor(deps: DeleteOutboxDeps = {}) {
    this.#store = deps.store === undefined ? openOutboxStore() : deps.store;
    this.#locks = deps.locks ?? tabLocks();
    this.#channel = deps.channel ?? tabChannel();
    this.#journal = deps.journal ?? new OutboxJournal();
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.options = { ...OUTBOX_DEFAULTS, ...deps.options };
    this.send =
      deps.send ?? ((url) => callProxy('DELETE', url, { keepalive: true, timeoutMs: this.options.timeoutMs }));
  }

  /** Whether deletes survive a reload (IndexedDB works). */
  get persistent(): boolean {
    return this.#store !== null;
  }

  /**
   * Queues the delete of `sessionId` at `url` and delivers it. Resolves with
   * the first settlement: `deleted`, `already-gone`, `failed`, or `queued`
   * when it will be retried (later settlements reach the listeners).
   */
  submit(url: string, sessionId: string): Promise<DeleteOutcome> {
    const fresh: OutboxEntry = { url, sessionId, createdAt: this.now(), attempts: 0, nextAttemptAt: 0 };
    // Durable before this call returns, even if the page is closed right after.
    this.#journal.add(fresh);
    this.#unwritten.add(url);
    this.#refreshPageListeners();
    return this.#persistAndRun(fresh);
  }

  async #persistAndRun(fresh: OutboxEntry): Promise<DeleteOutcome> {
    const { url, sessionId } = fresh;
    let entry: OutboxEntry;
    try {
      entry = await this.write(url, (existing) => {
        if (!existing || this.#expiredTombstone(existing)) return fresh;
        // Asked again for a delete the proxy refused before: try it again now.
        if (existing.failed) return { ...existing, failed: undefined, nextAttemptAt: 0 };
        return existing;
      });
      this.#journal.remove(url);
    } finally {
      this.#unwritten.delete(url);
    }
    if (entry.settled) {
      return { sessionId, outcome: entry.settled.outcome, attempts: entry.attempts };
    }
    return this.#worker(url, sessionId, true).first;
  }

  /**
   * Picks up every pending delete of the origin that no tab here works on
   * yet. `onLoad`: also those the proxy refused before (on the next load
   * only, not on every return to the tab).
   */
  async replay(onLoad = false): Promise<void> {
    // Deletes journaled by pages that closed before IndexedDB had them.
    for (const journaled of this.#journal.entries()) {
      if (this.#unwritten.has(journaled.url)) continue; // being written by this page right now
      const { sentAt, ...rest } = journaled;
      // A closing page sent it: let that request finish before another goes out.
      const sentUntil = sentAt === undefined ? undefined : sentAt + this.options.timeoutMs;
      await this.write(journaled.url, (existing) => {
        if (!existing) {
          return {
            ...rest,
            attempts: sentAt === undefined ? 0 : 1,
            nextAttemptAt: 0,
            ...(sentUntil === undefined ? {} : { notBefore: sentUntil }),
          };
        }
        if (sentUntil === undefined || existing.settled) return existing;
        return { ...existing, notBefore: Math.max(existing.notBefore ?? 0, sentUntil) };
      });
      this.#journal.remove(journaled.url);
    }
    for (const [key, entry] of await this.#readAll()) {
      if (entry.settled) {
        if (this.#expiredTombstone(entry)) await this.remove(key);
        continue;
      }
      if (entry.failed && !onLoad) continue;
      this.#worker(key, entry.sessionId, onLoad);
    }
    this.#pokeAll();
  }

  /**
   * Keeps the outbox listening to the page (online, visible, hidden) until
   * `signal` aborts; the first attachment of the page replays what is pending.
   */
  attach(signal: AbortSignal): void {
    if (signal.aborted) return;
    this.#attachments += 1;
    if (!this.#hearing) {
      // Once per outbox, for the life of the page: every settlement is heard once.
      this.#hearing = new AbortController();
      this.#channel.subscribe((message) => this.#hear(message), this.#hearing.signal);
    }
    signal.addEventListener(
      'abort',
      () => {
        this.#attachments -= 1;
        this.#refreshPageListeners();
      },
      { once: true },
    );
    this.#refreshPageListeners();
    if (!this.#replayed) {
      this.#replayed = true;
      void this.replay(true);
    }
  }

  /** Hears every settlement that concerns a delete this tab asked for or replays. */
  subscribe(listener: SettleListener, signal: AbortSignal): void {
    this.#listeners.add(listener);
    signal.addEventListener('abort', () => this.#listeners.delete(listener), { once: true });
  }

  /** Pending deletes this tab works on or waits for (for tests and the bench). */
  get pendingKeys(): string[] {
    return [...this.#workers.keys()];
  }

  emit(detail: DeleteDetail): void {
    for (const listener of [...this.#listeners]) listener(detail);
  }

  broadcast(message: TabMessage): void {
    this.#channel.post(message);
  }

  lock<T>(key: string, work: () => Promise<T>, signal: AbortSignal): Promise<T | undefined> {
    return this.#locks.run(LOCK_PREFIX + key, work, signal);
  }

  async read(key: string): Promise<OutboxEntry | undefined> {
    return this.#storage(
      async (store) => {
        const entry = await get<OutboxEntry>(key, store);
        if (entry) this.#memory.set(key, entry);
        return entry;
      },
      () => this.#memory.get(key),
    );
  }

  /** Read-modify-write in one transaction, so concurrent tabs lose nothing. */
  async write(key: string, change: (existing: OutboxEntry | undefined) => OutboxEntry): Promise<OutboxEntry> {
    let written: OutboxEntry | undefined;
    await this.#storage(
      (store) =>
        update<OutboxEntry>(
          key,
          (existing) => {
            written = change(existing);
            return written;
          },
          store,
        ).then(() => void this.#memory.set(key, written!)),
      () => {
        written = change(this.#memory.get(key));
        this.#memory.set(key, written);
      },
    );
    return written!;
  }

  async put(entry: OutboxEntry): Promise<void> {
    // Mirrored in memory, so a store that fails later still has what this page wrote.
    this.#memory.set(entry.url, entry);
    await this.#storage(
      (store) => set(entry.url, entry, store),
      () => undefined,
    );
  }

  async remove(key: string): Promise<void> {
    this.#memory.delete(key);
    await this.#storage(
      (store) => del(key, store),
      () => undefined,
    );
  }

  /**
   * Runs a storage operation on IndexedDB, or on memory where IndexedDB is
   * unavailable; if IndexedDB fails, this page carries on in memory.
   */
  async #storage<T>(persistent: (store: UseStore) => Promise<T>, inMemory: () => T): Promise<T> {
    if (this.#store) {
      try {
        return await persistent(this.#store);
      } catch (error) {
        this.#store = null;
        this.onStorageError?.(error);
      }
    }
    return inMemory();
  }

  workerDone(key: string, worker: DeleteWorker): void {
    if (this.#workers.get(key) === worker) this.#workers.delete(key);
    this.#refreshPageListeners();
  }

  #expiredTombstone(entry: OutboxEntry): boolean {
    return entry.settled !== undefined && this.now() - entry.settled.at > this.options.tombstoneMs;
  }

  #readAll(): Promise<Array<[string, OutboxEntry]>> {
    return this.#storage(
      (store) => entries<string, OutboxEntry>(store),
      () => [...this.#memory.entries()],
    );
  }

  #worker(key: string, sessionId: string, retryFailed: boolean): DeleteWorker {
    let worker = this.#workers.get(key);
    if (!worker) {
      worker = new DeleteWorker(this, key, sessionId, retryFailed);
      this.#workers.set(key, worker);
      this.#refreshPageListeners();
      worker.start();
    }
    return worker;
  }

  #hear(message: TabMessage): void {
    if (message.kind !== 'delete-settled') return;
    this.#workers.get(message.key)?.heard(message);
  }

  #pokeAll(): void {
    for (const worker of this.#workers.values()) worker.poke();
  }

  #refreshPageListeners(): void {
    const needed = this.#attachments > 0 || this.#workers.size > 0 || this.#unwritten.size > 0;
    if (needed && !this.#pageListeners) {
      const controller = new AbortController();
      this.#pageListeners = controller;
      const { signal } = controller;
      window.addEventListener('online', () => void this.replay(), { signal });
      document.addEventListener(
        'visibilitychange',
        () => {
          if (document.visibilityState === 'visible') void this.replay();
          else for (const worker of this.#workers.values()) worker.sendNow();
        },
        { signal },
      );
      // Back from the back/forward cache: pick up again what was left to other tabs.
      window.addEventListener('pageshow', (event) => event.persisted && void this.replay(), { signal });
      window.addEventListener(
        'pagehide',
        (event) => {
          for (const worker of this.#workers.values()) {
            worker.sendNow();
            // The request outlives the page (keepalive), but the write that tells the next page
            // to let it finish may not: say so synchronously, so no second one overlaps it.
            const inflight = worker.inflight;
            if (inflight) this.#journal.add(inflight);
            // A page in the back/forward cache must hold no lock and wait for none: it would
            // keep the other tabs from the work (or be evicted). Storage has the entry; another
            // tab, or this one when it is shown again, picks it up.
            worker.leave();
          }
          // The page is going away before IndexedDB had these: send them now (keepalive);
          // the journal still has them for the next load, should this attempt fail.
          if (event.persisted) return;
          for (const url of this.#unwritten) {
            this.#journal.markSent(url, this.now());
            void this.send(url).catch(() => {});
          }
        },
        { signal },
      );
    } else if (!needed && this.#pageListeners) {
      this.#pageListeners.abort();
      this.#pageListeners = undefined;
    }
  }
}

/** One pending delete, as this tab sees it: waiting for the lock, or working on it. */
class DeleteWorker {
  readonly first: Promise<DeleteOutcome>;
  #resolveFirst!: (outcome: DeleteOutcome) => void;
  #firstSettled = false;
  #entry: OutboxEntry | undefined;
  #inflight: Promise<ProxyAnswer> | undefined;
  /** When the request in flight went out. */
  #sentAt: number | undefined;
  #wake: AbortController | undefined;
  /** Set by a replay (load, online, visible): the next attempt does not wait for its backoff. */
  #urgent = false;
  readonly #stopWaiting = new AbortController();
  /** Set by {@link leave}: the work is given back at the next step. */
  #left = false;
  /** Another tab heard the proxy confirm this delete (see {@link heard}). */
  #confirmedElsewhere: DeleteDetail | undefined;
  /** The answer was final and is being stored. */
  #final = false;
  #resolveLeft!: () => void;
  readonly #leaving = new Promise<typeof LEFT>((resolve) => (this.#resolveLeft = () => resolve(LEFT)));

  constructor(
    private readonly outbox: DeleteOutbox,
    private readonly key: string,
    private readonly sessionId: string,
    /** Try it even if the proxy refused it before (a new logout, or the next load). */
    private readonly retryFailed: boolean,
  ) {
    this.first = new Promise((resolve) => (this.#resolveFirst = resolve));
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
      .finally(() => this.outbox.workerDone(this.key, this));
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
    if (!this.#entry || this.#inflight || (this.#entry.notBefore ?? 0) > this.outbox.now()) return;
    this.#attempt();
    this.#wake?.abort();
  }

  /** The request this tab has in flight, as a journal entry: when it went out. */
  get inflight(): JournalEntry | undefined {
    const entry = this.#entry;
    if (!entry || !this.#inflight || this.#sentAt === undefined) return undefined;
    return { url: entry.url, sessionId: entry.sessionId, createdAt: entry.createdAt, sentAt: this.#sentAt };
  }

  /**
   * The page is going away: stop waiting for the lock, or give the work
   * back. A request in flight is not cancelled (keepalive); if its answer
   * still arrives here and is final, it is recorded.
   */
  leave(): void {
    if (this.#left || this.#final) return; // a final answer is being stored: let it finish
    this.#left = true;
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
    const stored = await this.outbox.read(this.key);
    if (!stored || stored.settled || (stored.failed && !this.retryFailed)) {
      // Settled (or refused) in another tab before we got the lock.
      const outcome = stored?.settled?.outcome ?? (stored?.failed ? 'failed' : 'already-gone');
      this.#report({ sessionId: this.sessionId, outcome, attempts: stored?.attempts ?? 0 }, false);
      return;
    }
    const entry = (this.#entry = stored);
    const { outbox } = this;
    for (;;) {
      if (this.#left) return;
      if (outbox.now() - entry.createdAt > outbox.options.maxAgeMs) {
        await outbox.remove(this.key);
        this.#report(
          {
            sessionId: entry.sessionId,
            outcome: 'failed',
            attempts: entry.attempts,
            error: 'gave up: the delete stayed unconfirmed past the outbox age limit',
          },
          true,
        );
        return;
      }
      if (!this.#inflight) {
        await this.#waitFor(entry);
        if (this.#left) return;
        if (this.#confirmedElsewhere) {
          this.#entry = undefined;
          this.#report(this.#confirmedElsewhere, false);
          return;
        }
        if (!this.#inflight) this.#attempt();
      }
      const inflight = this.#inflight!;
      const answer = await Promise.race([inflight, this.#leaving]);
      if (answer === LEFT) {
        void inflight.then((late) => this.#lateAnswer(entry, late));
        return;
      }
      this.#inflight = undefined;
      const verdict = classifyDeleteAnswer(answer);
      const detail: DeleteDetail = { sessionId: entry.sessionId, outcome: 'queued', attempts: entry.attempts };
      if (answer.status !== 0) detail.status = answer.status;
      const now = outbox.now();
      if (verdict === 'retry') {
        entry.nextAttemptAt = now + retryDelay(entry.attempts, undefined, outbox.options.backoff, outbox.random);
        entry.notBefore =
          answer.retryAfterMs === undefined
            ? undefined
            : now + cappedRetryAfter(answer.retryAfterMs, outbox.options.backoff);
        await outbox.put(entry);
        this.#report(detail, true);
        continue;
      }
      // Final: nothing more goes out from here (not even from a pagehide while we store it).
      this.#entry = undefined;
      this.#final = true;
      detail.outcome = verdict;
      if (verdict === 'failed') {
        detail.error = `the proxy refused the delete (HTTP ${answer.status}); it will be tried again on the next load`;
        await outbox.put({ ...entry, notBefore: undefined, failed: { status: answer.status, at: now } });
      } else {
        const settled: NonNullable<OutboxEntry['settled']> = { outcome: verdict, at: now };
        if (detail.status !== undefined) settled.status = detail.status;
        await outbox.put({ ...entry, notBefore: undefined, settled });
      }
      this.#report(detail, true);
      return;
    }
  }

  #attempt(): void {
    const entry = this.#entry!;
    entry.attempts += 1;
    entry.failed = undefined;
    this.#sentAt = this.outbox.now();
    // Stored before the answer: the attempt counts even if this tab dies, and a tab taking
    // over waits until this request has had its time (its keepalive may outlive the tab).
    entry.notBefore = this.outbox.now() + this.outbox.options.timeoutMs;
    void this.outbox.put(entry).catch(() => {});
    this.#inflight = this.outbox.send(entry.url);
  }

  /** Waits for the entry's backoff (which a replay cuts short) and its hard deadline (which nothing does). */
  async #waitFor(entry: OutboxEntry): Promise<void> {
    let skipBackoff = false;
    for (;;) {
      // A replay (now or while waiting) cuts the backoff short for this whole wait.
      skipBackoff ||= this.#urgent;
      this.#urgent = false;
      const hard = entry.notBefore ?? 0;
      const target = skipBackoff ? hard : Math.max(hard, entry.nextAttemptAt);
      const delay = target - this.outbox.now();
      if (delay <= 0 || this.#inflight || this.#left || this.#confirmedElsewhere) return;
      this.#wake = new AbortController();
      await sleep(delay, this.#wake.signal);
      this.#wake = undefined;
    }
  }

  /**
   * The answer to a request sent before this tab gave the work back. A final
   * one is recorded (unless storage already has a settlement) and told to
   * every tab; a retry is left to whoever works on the entry now.
   */
  async #lateAnswer(entry: OutboxEntry, answer: ProxyAnswer): Promise<void> {
    const verdict = classifyDeleteAnswer(answer);
    if (verdict !== 'deleted' && verdict !== 'already-gone') return;
    const settled: NonNullable<OutboxEntry['settled']> = {
      outcome: verdict,
      status: answer.status,
      at: this.outbox.now(),
    };
    await this.outbox.write(this.key, (existing) =>
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
      this.outbox.broadcast(message);
    }
    this.outbox.emit(detail);
    if (!this.#firstSettled) {
      this.#firstSettled = true;
      this.#resolveFirst({ sessionId: detail.sessionId, outcome: detail.outcome, attempts: detail.attempts });
    }
  }
}

const LEFT = Symbol('left');

let shared: DeleteOutbox | undefined;

/** The page-wide outbox every guard shares. */
export function deleteOutbox(): DeleteOutbox {
  shared ??= new DeleteOutbox();
  return shared;
}
